"""Server-rendered pages: the few a person reaches from a link in an e-mail."""

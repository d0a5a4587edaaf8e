"""Messages to the outside world (e-mail, webhooks), written in the transaction of the
change that causes them and sent afterwards by a dispatcher in the serving processes."""

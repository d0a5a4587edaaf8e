// What a mobile developer writes with openapi-fetch and the generated types; the test
// compiles it with `tsc --strict` and never runs it. `./vocation` is generated.
import createClient from "openapi-fetch";
import type { paths } from "./vocation";

const client = createClient<paths>({ baseUrl: "https://vocation.example.org" });

// The follow-up token (201: a signed-in candidate whose verified address is the form's), or
// null (202: pending until the candidate uses the link e-mailed to the address).
export async function apply(offerId: string, cv: Blob, token: string): Promise<string | null> {
  const { data, error } = await client.POST("/v1/offers/{offer_id}/applications", {
    params: { path: { offer_id: offerId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    headers: { Authorization: `Bearer ${token}` },
    body: {
      first_name: "Camille",
      last_name: "Durand",
      email: "camille.durand@example.org",
      consent: true,
      keep_for_future_offers: false,
      cv,
    },
    // openapi-fetch sends JSON by default; the route takes multipart/form-data.
    bodySerializer(body) {
      const form = new FormData();
      for (const [name, value] of Object.entries(body)) {
        if (value instanceof Blob) form.append(name, value, `${name}.pdf`);
        else if (value !== undefined && value !== null) form.append(name, String(value));
      }
      return form;
    },
  });
  if (error) throw new Error(error.title);
  if (data.status === "pending") return null;
  // null on a replay of the same Idempotency-Key: only the first answer shows the token.
  if (data.follow_up_token === null) throw new Error("replayed: keep the first answer's token");
  return data.follow_up_token;
}

// What an app does with the link's token (a deep link from the e-mail): the application is
// received, and its follow-up token comes back.
export async function confirm(linkToken: string): Promise<string> {
  const { data, error } = await client.POST("/v1/applications/confirm", {
    body: { token: linkToken },
  });
  // The route also answers the e-mailed page's form, with HTML: narrow to the JSON shapes.
  if (error !== undefined) throw new Error(typeof error === "string" ? error : error.title);
  if (!data || typeof data === "string" || data.follow_up_token === null) {
    throw new Error("no follow-up token");
  }
  return data.follow_up_token;
}

// A 304 has no body: `data` is undefined and the cached copy is still good.
export async function offerIfChanged(offerId: string, etag: string): Promise<string | null> {
  const { data, response } = await client.GET("/v1/offers/{offer_id}", {
    params: { path: { offer_id: offerId }, header: { "If-None-Match": etag } },
    headers: { Accept: "application/json" },
  });
  if (response.status === 304 || !data) return null;
  // The route may also answer JSON-LD, so the type is either shape: narrow before reading.
  return typeof data.title === "string" ? data.title : null;
}

export async function offersIfChanged(etag: string): Promise<string[] | null> {
  const { data, response } = await client.GET("/v1/offers", {
    params: { query: { contract_type: ["cdd"], limit: 20 }, header: { "If-None-Match": etag } },
  });
  if (response.status === 304 || !data) return null;
  return data.items.map((offer) => offer.title);
}

// The card-gateway client: openapi-fetch over the types openapi-typescript generated into schema.d.ts
// (`npm run generate`, from openapi/openapi.json; never edit schema.d.ts by hand).
import createFetchClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export type Schemas = components["schemas"];
export type Card = Schemas["Card"];
export type Operation = Schemas["Operation"];
export type Event = Schemas["Event"];
export type Problem = Schemas["Problem"];
/** The currencies the gateway issues cards and groups in (its reference table; others are refused). */
export type Currency = Schemas["CreateCard"]["currency"];

// Default media type (`${string}/${string}`): success bodies are `application/json`, errors `application/problem+json`,
// and openapi-fetch must match both for `error` to be typed as Problem.
export type CardGatewayClient = Client<paths>;

export interface CardGatewayOptions extends Omit<ClientOptions, "baseUrl" | "headers"> {
  /** e.g. `http://127.0.0.1:8080` (no trailing `/v1`: the paths carry it). */
  baseUrl: string;
  /** A bearer token (`card-gateway token --tenant demo` prints a development one). */
  token: string;
  headers?: Record<string, string>;
}

/** A typed client; every call is `client.GET("/v1/cards/{id}", { params: { path: { id } } })` and so on. */
export function createCardGatewayClient(options: CardGatewayOptions): CardGatewayClient {
  const { baseUrl, token, headers, ...rest } = options;
  return createFetchClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...headers, Authorization: `Bearer ${token}` },
  });
}

/** A fresh `Idempotency-Key` (1–255 visible ASCII characters; reuse it only to retry the same request). */
export function newIdempotencyKey(prefix = "ts"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

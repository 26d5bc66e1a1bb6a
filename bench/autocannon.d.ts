/** The part of autocannon 8's programmatic API the benchmark uses; the package ships no types. */
declare module 'autocannon' {
  /** A request as autocannon builds it; `setupRequest` may change any field. */
  export interface RawRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }

  /** Per-connection state, reset to `{}` when a connection starts its request list again. */
  export type Context = Record<string, unknown>;

  /** One step of the request list each connection walks through in a loop. */
  export interface RequestStep extends RawRequest {
    /** Changes the request before it is sent; a falsy result restarts the list. */
    setupRequest?: (request: RawRequest, context: Context) => RawRequest | undefined;
    onResponse?: (status: number, body: string, context: Context) => void;
  }

  export interface Options {
    url: string;
    connections: number;
    duration: number;
    requests?: RequestStep[];
    headers?: Record<string, string>;
  }

  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
    total: number;
  }

  export interface Result {
    requests: Histogram;
    latency: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }

  function autocannon(options: Options): Promise<Result> & { stop?: () => void };
  export default autocannon;
}

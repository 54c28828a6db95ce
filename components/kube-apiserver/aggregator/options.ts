/** The apiserver's aggregation options: request-header settings (published) and the proxy client certificate. */
import type { Identity } from '../../client/tls.js';
import type { RequestHeaderOptions } from '../../api/requestheader.js';

export interface AggregationOptions {
  readonly requestHeader: RequestHeaderOptions;
  /** --proxy-client-cert-file/--proxy-client-key-file: what the aggregator presents to extension apiservers. */
  readonly proxyClient: Identity;
}

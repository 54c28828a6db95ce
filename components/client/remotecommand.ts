/**
 * The remote-command and port-forward sub-protocols (k8s.io/apimachinery/pkg/util/remotecommand,
 * k8s.io/api/core/v1 stream types, kubelet's cri/streaming): names, the channel numbers of the
 * WebSocket channel protocol, and the v1 Status a command's end is reported with on the error stream.
 */

/** Exec/attach sub-protocols, newest first. v5 adds the WebSocket CLOSE signal (255, stream id). */
export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';
export const STREAM_PROTOCOL_V3 = 'channel.k8s.io';
/** Port-forward over SPDY. */
export const PORT_FORWARD_PROTOCOL_V1 = 'portforward.k8s.io';
/** kubectl >= 1.31 tunnels SPDY through a WebSocket whose sub-protocol is this prefix plus the SPDY one. */
export const WEBSOCKET_SPDY_TUNNELING_PREFIX = 'SPDY/3.1+';

/** The SPDY exec protocols the kubelet speaks, in its order of preference (remotecommand.SupportedStreamingProtocols). */
export const SPDY_EXEC_PROTOCOLS = [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4, 'v3.channel.k8s.io', 'v2.channel.k8s.io'] as const;

/** Channel numbers (first byte of each WebSocket message). */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Header values of the `streamtype` header (core/v1 StreamType*). */
export type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize' | 'data';

/** What the query of an exec or attach asks for (the kubelet's `input`/`output`/`error`/`tty`, or the apiserver's `stdin`/...). */
export interface StreamOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** The v1 Status written on the error stream (json.Marshal of metav1.Status: no kind/apiVersion, as the kubelet writes it). */
export interface StreamStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
  code?: number;
}

export const successStatus = (): StreamStatus => ({ metadata: {}, status: 'Success' });

/**
 * A command that exited non-zero (kubelet's cri/streaming/remotecommand ServeExec): reason
 * NonZeroExitCode, the code as the ExitCode cause. `detail` is the runtime's exit error.
 */
export const exitStatus = (code: number, detail: string): StreamStatus => ({
  metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: ${detail}`, reason: 'NonZeroExitCode',
  details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
});

/** apierrors.NewInternalError, as json.Marshal writes it on the error stream. */
export const internalErrorStatus = (message: string): StreamStatus => ({
  metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError',
  details: { causes: [{ message }] }, code: 500,
});

/** The exit code a Status reports: 0 for Success, the ExitCode cause for NonZeroExitCode, undefined otherwise. */
export function exitCodeOf(s: StreamStatus): number | undefined {
  if (s.status === 'Success') return 0;
  if (s.reason !== 'NonZeroExitCode') return undefined;
  const c = s.details?.causes?.find((x) => x.reason === 'ExitCode');
  return c?.message !== undefined && /^\d+$/.test(c.message) ? Number(c.message) : undefined;
}

/** Reads a boolean query parameter as Go's strconv.ParseBool-based param parsing does ("1", "true"). */
const truthy = (v: string | null): boolean => v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);

/** The kubelet's query (`input`, `output`, `error`, `tty`, as the apiserver's ExecLocation writes it). */
export const kubeletStreamOptions = (q: URLSearchParams): StreamOptions =>
  ({ stdin: truthy(q.get('input')), stdout: truthy(q.get('output')), stderr: truthy(q.get('error')), tty: truthy(q.get('tty')) });

/** The apiserver's query (PodExecOptions / PodAttachOptions: `stdin`, `stdout`, `stderr`, `tty`). */
export const apiStreamOptions = (q: URLSearchParams): StreamOptions =>
  ({ stdin: truthy(q.get('stdin')), stdout: truthy(q.get('stdout')), stderr: truthy(q.get('stderr')), tty: truthy(q.get('tty')) });

/** One WebSocket channel message: the channel byte, then the data. */
export const channelMessage = (channel: number, data: Buffer | string): Buffer =>
  Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);

/** The ApiError a request fails with; any other error is rethrown, and success fails the test. */
import { ApiError } from '../../components/client/kube-client.js';

export async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

import type { DeliveryContext } from "./provider.ts";

/** A delivery the receiving service refused or never answered; the message is safe to show (no secrets). */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
}

/**
 * Sends one HTTP request for a delivery: `ctx.timeoutMs` deadline, redirects not followed (a redirect could carry
 * a signed payload elsewhere), any non-2xx answer a DeliveryError. `label` names the service in errors, so a URL
 * holding a token (Telegram) never reaches a log or an API answer.
 */
export async function sendRequest(
  label: string,
  url: string,
  init: { method: "POST" | "PUT"; headers?: Record<string, string>; body: string },
  ctx: DeliveryContext,
): Promise<void> {
  const deadline = AbortSignal.timeout(ctx.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: { "content-type": "application/json", ...init.headers },
      body: init.body,
      redirect: "manual",
      signal,
    });
  } catch (err) {
    if (deadline.aborted) throw new DeliveryError(`${label} did not answer within ${ctx.timeoutMs / 1000} s`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new DeliveryError(`${label} could not be reached: ${cause?.code ?? cause?.message ?? String(err)}`);
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel();
    return;
  }
  const text = (await res.text().catch(() => "")).slice(0, 200).trim();
  throw new DeliveryError(`${label} answered HTTP ${res.status}${text ? `: ${text}` : ""}`);
}

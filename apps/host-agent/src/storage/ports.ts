/**
 * Loopback ports for QEMU's user-network forwards. The OS picks a free port; QEMU binds it a moment later, so a
 * start that loses the race fails with "could not set up host forwarding" and the caller retries with a new port.
 */
import { createServer } from "node:net";

/** A currently free TCP port on 127.0.0.1. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** True when something accepts connections on 127.0.0.1:`port` (used to prove a destroyed capsule left no port). */
export async function isListening(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

import { ConnectError } from "@connectrpc/connect";
import { z } from "zod";
import { agentErrorToWrenn } from "../../agents/connect-errors.ts";
import { randomHex } from "../../ids.ts";
import type { Services } from "../../services/container.ts";
import type { App } from "../types.ts";
import { sendJson } from "./message-queue.ts";
import { openSession, TEAM_WS, type WsMount, type WsSession } from "./ws-session.ts";

const Start = z.object({
  type: z.literal("start"),
  cmd: z.string().min(1).max(4096).default("/bin/bash"),
  args: z.array(z.string()).max(1024).default([]),
  cols: z.number().int().min(1).max(1000).default(80),
  rows: z.number().int().min(1).max(1000).default(24),
  envs: z.record(z.string(), z.string()).default({}),
  cwd: z.string().max(4096).default(""),
  user: z.string().max(64).default(""),
});
const Connect = z.object({ type: z.literal("connect"), tag: z.string().min(1).max(128) });
const First = z.discriminatedUnion("type", [Start, Connect]);

/** Keepalive interval (reference: 30 s). */
const PING_MS = 30_000;
const RPC_MS = 5000;

/** Forwards input, resize and kill messages to the agent, in order, one RPC each (5 s deadline). */
async function pumpInput(session: WsSession, tag: string): Promise<void> {
  const { client, capsuleId, queue, socket } = session;
  for (;;) {
    const m = await queue.next(3_600_000);
    if (!m) return;
    if (!m.ok) {
      sendJson(socket, { type: "error", data: m.error, fatal: false });
      continue;
    }
    const msg = m.msg;
    try {
      if (msg.type === "input" && typeof msg.data === "string") {
        session.touch();
        await client.ptySendInput({ capsuleId, tag, data: Buffer.from(msg.data, "base64") }, { timeoutMs: RPC_MS });
      } else if (msg.type === "resize") {
        const cols = Number(msg.cols);
        const rows = Number(msg.rows);
        if (
          Number.isInteger(cols) &&
          Number.isInteger(rows) &&
          cols > 0 &&
          rows > 0 &&
          cols < 10_000 &&
          rows < 10_000
        ) {
          await client.ptyResize({ capsuleId, tag, cols, rows }, { timeoutMs: RPC_MS });
        }
      } else if (msg.type === "kill") {
        await client.ptyKill({ capsuleId, tag }, { timeoutMs: RPC_MS });
      } else if (msg.type !== "pong") {
        sendJson(socket, { type: "error", data: `unknown message type "${msg.type}"`, fatal: false });
      }
    } catch (err) {
      sendJson(socket, { type: "error", data: agentErrorToWrenn(err).message, fatal: false });
    }
  }
}

/**
 * GET (WS) /v1/capsules/{id}/pty: an interactive terminal. First message starts a session
 * (`start`) or reattaches by tag (`connect`); the PTY outlives the socket.
 */
export function ptyRoute(app: App, s: Services, at: WsMount = TEAM_WS): void {
  app.get(`${at.base}/:id/pty`, { websocket: true, schema: { hide: true } }, async (socket, req) => {
    const session = await openSession(socket, req as never, s, "open a terminal", at);
    if (!session) return;
    const first = await session.queue.next(30_000);
    if (!first) return session.fail("no start or connect message received", { fatal: true });
    if (!first.ok) return session.fail(first.error, { fatal: true });
    const parsed = First.safeParse(first.msg);
    if (!parsed.success)
      return session.fail(`expected start or connect: ${parsed.error.issues[0]?.message}`, { fatal: true });
    const m = parsed.data;
    const tag = m.type === "connect" ? m.tag : `pty-${randomHex(4)}`;
    const ping = setInterval(() => sendJson(socket, { type: "ping" }), PING_MS);
    socket.once("close", () => clearInterval(ping));
    const events = session.client.ptyAttach(
      m.type === "start"
        ? {
            capsuleId: session.capsuleId,
            tag,
            cmd: m.cmd,
            args: m.args,
            cols: m.cols,
            rows: m.rows,
            envs: m.envs,
            cwd: m.cwd,
            user: m.user,
          }
        : { capsuleId: session.capsuleId, tag },
      { signal: session.signal },
    );
    let inputStarted = false;
    try {
      for await (const r of events) {
        const e = r.event;
        if (e.case === "started") {
          sendJson(socket, { type: "started", tag: e.value.tag || tag, pid: e.value.pid });
          if (!inputStarted) {
            inputStarted = true;
            void pumpInput(session, e.value.tag || tag);
          }
        } else if (e.case === "output") {
          sendJson(socket, { type: "output", data: Buffer.from(e.value).toString("base64") });
        } else if (e.case === "exited") {
          if (e.value.error) sendJson(socket, { type: "error", data: e.value.error, fatal: false });
          sendJson(socket, { type: "exit", exit_code: e.value.exitCode });
        }
      }
    } catch (err) {
      if (!session.signal.aborted) {
        sendJson(socket, { type: "error", data: agentErrorToWrenn(ConnectError.from(err)).message, fatal: true });
      }
    } finally {
      clearInterval(ping);
      if (socket.readyState === socket.OPEN) socket.close(1000);
    }
  });
}

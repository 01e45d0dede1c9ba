import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import type { SmtpConfig } from "../config.ts";

const TIMEOUT_MS = 20_000;

/** Reads SMTP replies line by line; a reply ends at a line whose 4th char is a space. */
class SmtpConversation {
  private buf = "";
  private waiters: Array<(line: string) => void> = [];
  private lines: string[] = [];
  constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }
  attach(socket: Socket | TLSSocket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buf += d;
      let i = this.buf.indexOf("\n");
      while (i >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, "");
        this.buf = this.buf.slice(i + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
        i = this.buf.indexOf("\n");
      }
    });
  }
  private nextLine(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async reply(expect: number): Promise<string> {
    for (let n = 0; n < 100; n++) {
      const line = await this.nextLine();
      if (line[3] !== "-") {
        if (Number(line.slice(0, 3)) !== expect) throw new Error(`SMTP: expected ${expect}, got "${line}"`);
        return line;
      }
    }
    throw new Error("SMTP: reply too long");
  }
  async cmd(line: string, expect: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply(expect);
  }
}

/** Sends one plain-text mail: implicit TLS on port 465, STARTTLS elsewhere, AUTH PLAIN when a username is set. */
export async function sendSmtp(cfg: SmtpConfig, mail: { to: string; subject: string; text: string }): Promise<void> {
  const implicit = cfg.port === 465;
  const socket = implicit
    ? tlsConnect({ host: cfg.host, port: cfg.port, servername: cfg.host })
    : netConnect({ host: cfg.host, port: cfg.port });
  socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error("SMTP timeout")));
  const failed = new Promise<never>((_, reject) => socket.once("error", reject));
  const run = async () => {
    const c = new SmtpConversation(socket);
    await c.reply(220);
    const ehlo = await c.cmd("EHLO wrenn", 250);
    if (!implicit && ehlo) {
      await c.cmd("STARTTLS", 220);
      socket.removeAllListeners("data");
      const secure = tlsConnect({ socket, servername: cfg.host });
      secure.once("error", () => {});
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", () => resolve());
        secure.once("error", reject);
      });
      c.attach(secure);
      await c.cmd("EHLO wrenn", 250);
    }
    if (cfg.username) {
      const plain = Buffer.from(`\0${cfg.username}\0${cfg.password ?? ""}`).toString("base64");
      await c.cmd(`AUTH PLAIN ${plain}`, 235);
    }
    await c.cmd(`MAIL FROM:<${cfg.from}>`, 250);
    await c.cmd(`RCPT TO:<${mail.to}>`, 250);
    await c.cmd("DATA", 354);
    const body = mail.text.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    const headers = `From: ${cfg.from}\r\nTo: ${mail.to}\r\nSubject: ${mail.subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
    await c.cmd(`${headers}${body}\r\n.`, 250);
    await c.cmd("QUIT", 221).catch(() => {});
  };
  try {
    await Promise.race([run(), failed]);
  } finally {
    socket.destroy();
  }
}

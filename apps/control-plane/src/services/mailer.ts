import type { Logger } from "pino";
import type { SmtpConfig } from "../config.ts";
import { sendSmtp } from "./smtp.ts";

/** One outgoing email. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends account emails (activation, password reset, team invitations). */
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * SMTP when configured; otherwise each mail is logged (at info level, so the activation link
 * of a zero-setup install is in the log). Send failures are logged, never thrown: an email is
 * a courtesy, the account change already happened.
 */
export function createMailer(smtp: SmtpConfig | undefined, log: Logger): Mailer {
  return {
    async send(mail) {
      if (!smtp) {
        log.info({ to: mail.to, subject: mail.subject, body: mail.text }, "email not sent (SMTP_HOST unset)");
        return;
      }
      try {
        await sendSmtp(smtp, mail);
        log.info({ to: mail.to, subject: mail.subject }, "email sent");
      } catch (err) {
        log.error({ err, to: mail.to, subject: mail.subject }, "email failed");
      }
    },
  };
}

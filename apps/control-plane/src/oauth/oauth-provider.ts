/** Who the provider says the user is. */
export interface OAuthProfile {
  /** The provider's stable user id (GitHub's numeric id, as text). */
  providerId: string;
  /** Lower-cased; the primary verified address when the profile shows none. */
  email: string;
  /** Display name: the profile name, else the login. */
  name: string;
}

/** One OAuth provider: where to send the browser, and how to turn a callback's code into a profile. */
export interface OAuthProvider {
  readonly name: string;
  /** The provider's authorize page for this `state`. */
  authorizeUrl(state: string): string;
  /** Exchanges the code and reads the profile; throws OAuthExchangeError on any failure. */
  exchange(code: string): Promise<OAuthProfile>;
}

/** The provider refused the code, was unreachable, or answered something unusable. */
export class OAuthExchangeError extends Error {
  override readonly name = "OAuthExchangeError";
}

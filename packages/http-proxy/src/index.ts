/** Reverse-proxy pieces shared by the port proxy's hops (wrenn-cp → wrenn-agent → guest server). */
export {
  CLIENT_AUTHORIZATION_HEADER,
  endToEndHeaders,
  errorBody,
  upgradeRequestHead,
  writeSocketError,
} from "./forward-headers.ts";
export { type SpliceOptions, spliceUpgrade } from "./splice-upgrade.ts";

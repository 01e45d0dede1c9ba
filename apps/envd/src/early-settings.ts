/**
 * Imported first by main.ts, so that it runs before the rest of envd loads: V8 flags have to be set before the
 * heap grows (see `skipIdleCollections`).
 */
import { skipIdleCollections } from "./guest-runtime.ts";

skipIdleCollections();

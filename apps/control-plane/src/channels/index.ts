export { type ChannelService, type ChannelView, createChannelService, type NewChannel } from "./channel-service.ts";
export { DecryptError, decryptConfig, decryptValue, encryptConfig, encryptValue } from "./config-encryption.ts";
export { type ChannelDispatcher, createChannelDispatcher, DISPATCH_INTERVAL_MS } from "./dispatcher.ts";
export { ENCRYPTION_KEY_PATTERN, encryptionKeyBytes, persistedEncryptionKey } from "./encryption-key.ts";
export { type ChannelEvent, EVENT_TYPES, type EventType, eventFromAuditRow } from "./events.ts";
export { formatMessage } from "./message.ts";
export { DeliveryError, PROVIDER_NAMES, PROVIDERS, type ProviderName, webhookSignature } from "./providers/index.ts";

/** Prometheus text exposition shared by wrenn-cp and wrenn-agent. */
export {
  Counter,
  DEFAULT_SECONDS_BUCKETS,
  Gauge,
  Histogram,
  type Labels,
  PROMETHEUS_CONTENT_TYPE,
  PromRegistry,
} from "./registry.ts";

// Metrics: counters on the hot path, families read at scrape time, merged over the workers.
export { counter, counterBy, histogram, observed, observedSamples, type Count, type CountBy, type FamilyJson, type SampleJson, type Labels } from './family.js';
export { collectMetrics, answerPrimary, provideExtra, CONTENT_TYPE, type MetricsSnapshot } from './collect.js';
export { startMetricsListener, type MetricsListener } from './http.js';
export { metricsTable } from './table.js';

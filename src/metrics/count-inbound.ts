import type { InboundPipeline } from '../mail/inbound/pipeline.js';
import type { Metrics } from './metrics.js';

/** Counts every message the pipeline handles, whichever intake brought it, by what it turned out to be. */
export function countInbound(pipeline: InboundPipeline, metrics: Pick<Metrics, 'inboundHandled'>): InboundPipeline {
  return {
    async handle(raw, source) {
      const result = await pipeline.handle(raw, source);
      metrics.inboundHandled(source.source, result);
      return result;
    },
    handleMany(items, o) {
      return pipeline.handleMany(items, {
        ...o,
        onResult: (i, result) => {
          metrics.inboundHandled(items[i]!.source.source, result);
          o.onResult?.(i, result);
        },
      });
    },
    async quarantineUnread(source, reason, o) {
      const result = await pipeline.quarantineUnread(source, reason, o);
      metrics.inboundHandled(source.source, result);
      return result;
    },
  };
}

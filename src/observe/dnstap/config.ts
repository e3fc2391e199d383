// The `dnstap:` key: where dnstap frames go (a Frame Streams socket or file), and which messages.
import { z } from 'zod';

export const dnstapSchema = z
  .object({
    /** A Unix socket a collector listens on (fstrm_capture -u, dnstap-ingest …): bidirectional Frame Streams. */
    socket: z.string().min(1, 'expected the path of a Unix socket').optional(),
    /** A file written as one unidirectional Frame Stream (with workers: N, each worker writes FILE.<worker id>). */
    file: z.string().min(1, 'expected the path of a file').optional(),
    /** Dnstap.identity: the server's name; defaults to the host name. */
    identity: z.string().max(255).optional(),
    /** Dnstap.version; defaults to "fluxdns <version>". */
    version: z.string().max(255).optional(),
    /** Which messages: the query as received, the response as sent. */
    messages: z.array(z.enum(['auth_query', 'auth_response'])).min(1, 'expected at least one of auth_query, auth_response').default(['auth_query', 'auth_response']),
    /** Queries waiting to be written; beyond it they are dropped (and counted), never waited for. */
    queueSize: z.number().int().min(16).max(1_000_000).default(10000),
  })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.socket === undefined) === (d.file === undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected exactly one of socket or file' });
  });

export type DnstapConfig = z.output<typeof dnstapSchema>;

// The `udp` configuration block: whether UDP listeners batch system calls through the native addon.
import { z } from 'zod';

export const udpSchema = z
  .object({
    /** auto: recvmmsg/sendmmsg through native/ when the addon loaded, else node:dgram; off: always dgram. */
    batching: z.enum(['auto', 'off'], { errorMap: () => ({ message: 'expected "auto" or "off"' }) }).default('auto'),
    /** Datagrams read with one recvmmsg and answered with one sendmmsg. */
    batchSize: z.number({ invalid_type_error: 'expected a whole number from 1 to 1024' }).int('expected a whole number from 1 to 1024').min(1, 'expected a whole number from 1 to 1024').max(1024, 'expected a whole number from 1 to 1024').default(64),
  })
  .strict()
  .default({});

export type UdpConfig = z.output<typeof udpSchema>;

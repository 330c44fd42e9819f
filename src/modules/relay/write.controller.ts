import { Body, Controller, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { WriteConsistency } from '../../config/defaults';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { RelayAuthGuard } from './auth.guard';
import { BadWriteBodyError } from './errors';
import { InfluxHttpError } from './influx-error';
import { OversizeBody, type RawBody } from './raw-body.parser';
import { contentEncodingOf, inflateBody } from './write-body';
import { WriteFanoutService } from './write-fanout.service';
import { PRECISIONS, type Precision, type WriteTarget } from './write-target';
import { cappedConsistency } from './write-verdict';

const CONSISTENCIES: readonly WriteConsistency[] = ['any', 'one', 'quorum', 'all'];
/** The v2 API's precisions, as the 1.x `precision` parameter names them. */
const V2_PRECISIONS: Readonly<Record<string, Precision>> = { ns: 'ns', us: 'u', ms: 'ms', s: 's' };

/**
 * InfluxDB 1.x `POST /write` and the 1.8 compatibility `POST /api/v2/write` (what 2.x clients
 * and Telegraf's `outputs.influxdb_v2` send: `bucket=db/rp`, `org` ignored, Token auth), fanned
 * out to every node; errors in InfluxDB's JSON shape.
 */
@Controller()
@UseGuards(RelayAuthGuard)
export class WriteController {
  constructor(
    private readonly fanout: WriteFanoutService,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  @Post('write')
  @HttpCode(204)
  async write(
    @Req() request: FastifyRequest,
    @Query() query: Record<string, unknown>,
    @Body() body: RawBody | undefined,
  ): Promise<void> {
    const db = text(query.db);
    if (!db) throw new InfluxHttpError(400, 'database is required');
    const precision = text(query.precision) ?? '';
    if (precision && !PRECISIONS.includes(precision as Precision)) {
      throw new InfluxHttpError(
        400,
        `invalid precision ${JSON.stringify(precision)} (use n, u, ms, s, m or h)`,
      );
    }
    const target = { db, rp: text(query.rp) ?? '', precision: precision as Precision | '' };
    await this.accept(request, target, text(query.consistency), body);
  }

  @Post('api/v2/write')
  @HttpCode(204)
  async writeV2(
    @Req() request: FastifyRequest,
    @Query() query: Record<string, unknown>,
    @Body() body: RawBody | undefined,
  ): Promise<void> {
    const bucket = text(query.bucket);
    if (!bucket) throw new InfluxHttpError(400, 'bucket is required');
    const slash = bucket.indexOf('/');
    const db = slash < 0 ? bucket : bucket.slice(0, slash);
    if (!db) throw new InfluxHttpError(400, `invalid bucket ${JSON.stringify(bucket)}`);
    const asked = text(query.precision) ?? 'ns';
    const precision = V2_PRECISIONS[asked];
    if (!precision) {
      throw new InfluxHttpError(
        400,
        `invalid precision ${JSON.stringify(asked)} (use ns, us, ms or s)`,
      );
    }
    const target = { db, rp: slash < 0 ? '' : bucket.slice(slash + 1), precision };
    await this.accept(request, target, undefined, body);
  }

  private async accept(
    request: FastifyRequest,
    target: WriteTarget,
    askedConsistency: string | undefined,
    body: RawBody | undefined,
  ): Promise<void> {
    const asked = (askedConsistency ?? this.config.writeConsistency) as WriteConsistency;
    if (!CONSISTENCIES.includes(asked)) {
      throw new InfluxHttpError(
        400,
        `invalid consistency ${JSON.stringify(asked)} (use any, one, quorum or all)`,
      );
    }
    const consistency = cappedConsistency(asked, this.config.maxConsistency);
    if (body instanceof OversizeBody) {
      throw new InfluxHttpError(413, `request body too large: the limit is ${body.limit} bytes`);
    }
    const encoding = contentEncodingOf(request.headers['content-encoding']);
    if (!encoding)
      throw new InfluxHttpError(415, 'unsupported content encoding (use gzip or none)');
    const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    // Nothing to write: InfluxDB answers 204 to an empty body, and nothing is handed off.
    if (bytes.length === 0) return;
    let inflated: Buffer | undefined;
    if (encoding === 'gzip') {
      // A gzip body must inflate within the limit before it is acknowledged (or handed off).
      try {
        inflated = await inflateBody(bytes, this.config.maxBodySize);
      } catch (err) {
        if (err instanceof BadWriteBodyError) throw new InfluxHttpError(err.status, err.message);
        throw err;
      }
    }
    const { verdict } = await this.fanout.write({
      target,
      body: bytes,
      encoding,
      inflated,
      consistency,
    });
    if (verdict.status !== 204)
      throw new InfluxHttpError(verdict.status, verdict.error ?? 'write failed');
  }
}

/** A query parameter as one non-empty string (the first, when repeated). */
function text(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}

import { relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { archiveFilePath } from '../../engine/archive-file.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { failureSchema, queueNameSchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';

/** An archive file as the API names it: `<queue>/<YYYY-MM-DD>`, with or without `.jsonl.gz`. */
const ARCHIVE_NAME = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\/(\d{4}-\d{2}-\d{2})(?:\.jsonl\.gz)?$/;

const archiveNameSchema = z
  .string()
  .max(200)
  .describe(
    'an archive file as `GET /api/archives` names it: `orders/2026-01-01.jsonl.gz` (URL-encoded in a path)',
  );

/**
 * The path of the archive file `name` inside `archiveDir`. Only `<queue>/<day>` names are
 * accepted, so no request reaches a file outside the archive directory (ValidationError, 422).
 */
export function archivePathOf(archiveDir: string, name: string): string {
  const match = ARCHIVE_NAME.exec(name);
  const queue = match?.[1];
  const day = match?.[2];
  if (!queue || !day || queue === '.' || queue === '..') {
    throw new ValidationError(
      `invalid archive file "${name}": name a file of the server's archive directory as \`dlq archive list\` (GET /api/archives) does, <queue>/<YYYY-MM-DD>.jsonl.gz`,
    );
  }
  const root = resolve(archiveDir);
  const path = resolve(archiveFilePath(root, queue, day));
  if (!path.startsWith(root + sep)) throw new ValidationError(`invalid archive file "${name}"`);
  return path;
}

/** The API's name of an archive file: its path relative to the archive directory, with `/`. */
function nameOf(archiveDir: string, path: string): string {
  return relative(archiveDir, path).split(sep).join('/');
}

const archiveFileSchema = z
  .object({
    file: z.string().describe('its name for GET /api/archives/{file} and the import'),
    queue: z.string(),
    day: z.string(),
    records: z.number().int(),
    bytes: z.number().int(),
  })
  .meta({ id: 'ArchiveFile' });

const archiveRecordSchema = z
  .looseObject({
    id: z.string(),
    state: z.enum(['dead', 'replayed']),
    queue: z.string(),
    tier: z.string(),
    groupId: z.string(),
    diedAt: z.number(),
    error: failureSchema,
    archiveId: z.string(),
    archivedAt: z.number(),
  })
  .describe('an archived dead letter with its whole context (the fields of a dead letter, and more)')
  .meta({ id: 'ArchiveRecord' });

const skippedSchema = z.object({
  dead: z.number().int(),
  replayed: z.number().int(),
  discarded: z.number().int(),
  message: z.number().int(),
});

const importResultSchema = z
  .object({
    file: z.string(),
    dryRun: z.boolean(),
    records: z.number().int(),
    queues: z.array(z.string()),
    restored: z.number().int(),
    added: z.number().int(),
    history: z.number().int(),
    skipped: skippedSchema,
    skippedSample: z.array(
      z.object({ id: z.string(), reason: z.enum(['dead', 'replayed', 'discarded', 'message']) }),
    ),
    pastRetention: z.number().int(),
  })
  .meta({ id: 'ArchiveImport' });

const sweepResultSchema = z
  .object({
    dryRun: z.boolean(),
    at: z.number(),
    archiveDir: z.string(),
    queues: z.array(
      z.object({
        queue: z.string(),
        retentionDays: z.number(),
        before: z.number().nullable(),
        dead: z.number().int(),
        replayed: z.number().int(),
        files: z.array(
          z.object({
            day: z.string(),
            file: z.string(),
            dead: z.number().int(),
            replayed: z.number().int(),
            kept: z.number().int(),
            stale: z.number().int(),
          }),
        ),
        error: z.string().optional(),
      }),
    ),
    dead: z.number().int(),
    replayed: z.number().int(),
    errors: z.number().int(),
  })
  .meta({ id: 'RetentionSweep' });

/**
 * Archives (viewer reads; admin imports) and retention (admin): the archive files the retention
 * sweeper wrote to the server's archive directory, their records, an import back into the
 * store, and a sweep now. Files are named `<queue>/<day>.jsonl.gz`, never by a path.
 */
export const archiveRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/archives', {
    config: { access: 'viewer' },
    schema: {
      tags: ['archives'],
      summary: 'The archive files, by queue and day, with their record counts and sizes',
      querystring: z.object({ queue: queueNameSchema.optional() }).strict(),
      response: {
        200: z.object({ files: z.array(archiveFileSchema) }),
        ...errorResponses(...AUTH_ERRORS, 422),
      },
    },
    handler: async (request) => {
      const files = await dl.listArchives(
        request.query.queue === undefined ? {} : { queue: request.query.queue },
      );
      return {
        files: files.map((f) => ({
          file: nameOf(dl.archiveDir, f.path),
          queue: f.queue,
          day: f.day,
          records: f.records,
          bytes: f.bytes,
        })),
      };
    },
  });

  app.get('/api/archives/:file', {
    config: { access: 'viewer' },
    schema: {
      tags: ['archives'],
      summary: 'The records of an archive file, in file order, a page at a time',
      params: z.object({ file: archiveNameSchema }),
      querystring: z
        .object({
          offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        })
        .strict(),
      response: {
        200: z.object({
          file: z.string(),
          records: z.array(archiveRecordSchema),
          nextOffset: z.number().int().nullable().describe('the offset of the next page; null at the end'),
        }),
        ...errorResponses(...AUTH_ERRORS, 404, 422),
      },
    },
    handler: async (request) => {
      const path = archivePathOf(dl.archiveDir, request.params.file);
      const { offset, limit } = request.query;
      const records: Record<string, unknown>[] = [];
      let index = 0;
      let more = false;
      for await (const { line: _line, ...record } of dl.readArchive(path)) {
        if (index++ < offset) continue;
        if (records.length === limit) {
          more = true;
          break;
        }
        records.push(record);
      }
      return {
        file: nameOf(dl.archiveDir, path),
        records: records as z.infer<typeof archiveRecordSchema>[],
        nextOffset: more ? offset + limit : null,
      };
    },
  });

  app.post('/api/archives/import', {
    config: { access: 'admin' },
    schema: {
      tags: ['archives'],
      summary:
        'Put the dead letters of an archive file back into the store (ids already here are skipped; audited)',
      body: z.object({ file: archiveNameSchema, dryRun: z.boolean().optional() }).strict(),
      response: { 200: importResultSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
    },
    handler: async (request) => {
      const path = archivePathOf(dl.archiveDir, request.body.file);
      const result = await dl.importArchive(path, {
        actor: actorOf(request),
        dryRun: request.body.dryRun === true,
      });
      return { ...result, file: nameOf(dl.archiveDir, result.file) };
    },
  });

  app.post('/api/retention/run', {
    config: { access: 'admin' },
    schema: {
      tags: ['archives'],
      summary:
        'Run a retention sweep now: archive, then delete, what is past its queue retention (dryRun: only count)',
      body: z
        .object({ dryRun: z.boolean().optional(), queue: queueNameSchema.optional() })
        .strict()
        .optional(),
      response: { 200: sweepResultSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
    },
    handler: async (request) => {
      const body = request.body ?? {};
      return dl.sweepRetention({
        actor: actorOf(request),
        ...(body.dryRun === true && { dryRun: true }),
        ...(body.queue !== undefined && { queue: body.queue }),
      });
    },
  });
};

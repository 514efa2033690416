import fastJsonStringify from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { type ZodType, z } from 'zod';

/**
 * Fastify's response serializer for the routes' zod schemas: each response schema is turned
 * into JSON Schema once (the same conversion as the OpenAPI document's) and compiled with
 * fast-json-stringify, which writes exactly the documented fields (others are left out: a
 * token's hash can never leak through a response whose schema does not name it) about twice
 * as fast as encoding through zod and `JSON.stringify` (bench/server: list pages are the hot
 * path). Handlers' return types are checked against the same schemas at compile time; values
 * under a recursive (lazy) schema, i.e. message bodies, are written whole.
 */
export const serializerCompiler: FastifySerializerCompiler<ZodType> = ({ schema }) => {
  const json = z.toJSONSchema(schema, {
    io: 'output',
    target: 'draft-7',
    unrepresentable: 'any',
    // Recursive schemas (`z.json()`: a message body) are lazy; fast-json-stringify cannot compile
    // a cycle, so their values are written as they are, with JSON.stringify.
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type !== 'lazy') return;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
    },
  });
  return fastJsonStringify(json as Parameters<typeof fastJsonStringify>[0]);
};

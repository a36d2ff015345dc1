/** JSON Schema of a pack's actions.yaml; packs are validated with it at start-up. */
export const PACK_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'scroll', 'actions'],
  properties: {
    pack: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
    scroll: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
    description: { type: 'string' },
    actions: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)?$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'entity', 'id', 'effect', 'event', 'payload'],
        properties: {
          description: { type: 'string' },
          scroll: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
          entity: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
          id: { type: 'string', minLength: 1 },
          event: { type: 'string', minLength: 1 },
          effect: {
            oneOf: [
              { enum: ['upsert', 'merge', 'delete'] },
              { type: 'object', additionalProperties: false, required: ['handler'], properties: { handler: { type: 'string' } } },
              {
                type: 'object',
                additionalProperties: false,
                required: ['transition'],
                properties: {
                  transition: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['field', 'from', 'to'],
                    properties: { field: { type: 'string' }, from: { type: 'array', items: { type: 'string' }, minItems: 1 }, to: { type: 'string' } },
                  },
                },
              },
            ],
          },
          payload: { type: 'object' },
          secretFields: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          beneficiary: { type: 'string', minLength: 1 },
        },
      },
    },
  },
} as const;

/**
 * The sample upstream source of `npm run dev`: a CMS pushing articles by Standard Webhooks. Its
 * secret is fixed and public, like the sample password: it is development data, never a real
 * secret (`whsec_` and the base64 of 32 bytes, as Sift generates them).
 */
export const SAMPLE_SOURCE = {
  name: 'Sample upstream CMS',
  kind: 'standard' as const,
  secret: `whsec_${Buffer.from('sift sample upstream CMS secret!').toString('base64')}`,
  mapping: {
    external_id: '/object/id',
    title: '/object/title',
    body: '/object/body',
    summary: '/object/excerpt',
    tags: '/object/tags',
    locale: '/object/lang',
    default_locale: 'en',
    event_type: '/type',
    delete_events: ['post.deleted'],
    publish: true,
  },
};

/**
 * The sample outbound endpoint of `npm run dev`: every event of the demo organisation goes to a
 * receiver `npm run dev` runs on this machine, which checks each signature and prints what it
 * got. Its secret is fixed and public too (development data).
 */
export const SAMPLE_ENDPOINT = {
  description: 'Sample receiver (npm run dev prints what it gets)',
  eventTypes: ['*'],
  secret: `whsec_${Buffer.from('sift sample receiver secret, dev').toString('base64')}`,
};

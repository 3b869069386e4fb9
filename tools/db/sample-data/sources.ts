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

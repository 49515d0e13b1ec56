/** @jsxImportSource hono/jsx */
/** The records browser: filters, previews (images shown, audio and video playable, text excerpts), one record. */
import {
  formatBytes,
  MEDIA_TYPES,
  type MediaRangeFilter,
  type MediaRecord,
  mediaSummary,
  publicSourceUrl,
  RECORD_STATUSES,
} from '@mediaforge/core';
import { ago, Layout, shortId } from './layout.tsx';
import { ListPreview } from './list-preview.tsx';
import { mediaFields } from './media-fields.ts';
import { MediaRangeInputs, mediaRangeParams } from './media-filters.tsx';

export interface RecordFilters extends MediaRangeFilter {
  mediaType?: string;
  status?: string;
}

export function Preview({ record, excerpt }: { record: MediaRecord; excerpt?: string }) {
  if (!record.storageKey) return <p class="muted">No file yet ({record.status}).</p>;
  const src = `/v1/records/${record.uid}/file`;
  switch (record.mediaType) {
    case 'image':
      return <img src={src} alt={record.title ?? record.uid} loading="lazy" />;
    case 'audio':
      // biome-ignore lint/a11y/useMediaCaption: user media has no captions to offer
      return <audio controls preload="metadata" src={src} />;
    case 'video':
      // biome-ignore lint/a11y/useMediaCaption: user media has no captions to offer
      return <video controls preload="metadata" src={src} />;
    default:
      return <pre class="excerpt">{excerpt ?? ''}</pre>;
  }
}

export function RecordsPage(props: {
  user: string;
  records: MediaRecord[];
  excerpts: Map<string, string>;
  filters: RecordFilters;
  nextCursor?: string;
}) {
  const next = new URLSearchParams({
    ...(props.filters.mediaType ? { mediaType: props.filters.mediaType } : {}),
    ...(props.filters.status ? { status: props.filters.status } : {}),
    ...mediaRangeParams(props.filters),
    ...(props.nextCursor ? { cursor: props.nextCursor } : {}),
  });
  return (
    <Layout title="Records" user={props.user}>
      <h1>Records</h1>
      <form class="filters" method="get" action="/dashboard/records">
        <label>
          Media type
          <br />
          <select name="mediaType">
            <option value="">any</option>
            {MEDIA_TYPES.map((type) => (
              <option value={type} selected={props.filters.mediaType === type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <br />
          <select name="status">
            <option value="">any</option>
            {RECORD_STATUSES.map((status) => (
              <option value={status} selected={props.filters.status === status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <MediaRangeInputs filter={props.filters} />
        <button type="submit">Filter</button>
      </form>
      <div class="grid" id="records">
        {props.records.map((record) => (
          <div class="preview" data-record-uid={record.uid} data-media-type={record.mediaType}>
            <ListPreview record={record} excerpt={props.excerpts.get(record.uid)} />
            <div>
              <a href={`/dashboard/records/${record.uid}`} title={record.uid}>
                {record.title ?? shortId(record.uid)}
              </a>
            </div>
            <div class="muted">
              {record.mediaType} · {record.status} · {record.fileSize ? formatBytes(record.fileSize) : '—'} ·{' '}
              {record.storageKey ? `${mediaSummary(record)} · ` : ''}
              {ago(record.createdAt)}
            </div>
          </div>
        ))}
      </div>
      {props.records.length === 0 ? <p class="muted">No records match.</p> : null}
      {props.nextCursor ? (
        <p>
          <a href={`/dashboard/records?${next}`}>Next page →</a>
        </p>
      ) : null}
    </Layout>
  );
}

export function RecordPage({ user, record, excerpt }: { user: string; record: MediaRecord; excerpt?: string }) {
  const fields: [string, string][] = [
    ['uid', record.uid],
    ['media type', record.mediaType],
    ['status', record.status],
    ['content type', record.contentType ?? '—'],
    ['size', record.fileSize ? formatBytes(record.fileSize) : '—'],
    ...mediaFields(record),
    ['sha256', record.sha256 ?? '—'],
    ['storage key', record.storageKey ?? '—'],
    ['source', record.source ?? '—'],
    ['source URL', (record.sourceUrl && publicSourceUrl(record.sourceUrl)) ?? '—'],
    ['user', record.userId ?? '—'],
    ['generation', record.generationId ?? '—'],
    ['created', record.createdAt.toISOString()],
  ];
  return (
    <Layout title={record.title ?? record.uid} user={user}>
      <h1>{record.title ?? record.uid}</h1>
      <div class="preview" id="record-preview" data-media-type={record.mediaType}>
        <Preview record={record} excerpt={excerpt} />
      </div>
      {record.storageKey ? (
        <p>
          <a href={`/v1/records/${record.uid}/file?download=true`}>Download</a>
        </p>
      ) : null}
      <table>
        <tbody>
          {fields.map(([label, value]) => (
            <tr>
              <th>{label}</th>
              <td>{value}</td>
            </tr>
          ))}
          <tr>
            <th>metadata</th>
            <td>
              <pre>{JSON.stringify(record.metadata, null, 2)}</pre>
            </td>
          </tr>
        </tbody>
      </table>
    </Layout>
  );
}

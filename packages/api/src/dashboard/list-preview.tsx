/** @jsxImportSource hono/jsx */
/** A record's preview in a list: its small thumbnail when it has one, so a page of videos does not load the videos. */
import { currentThumbnailKey, type MediaRecord } from '@mediaforge/core';
import { Preview } from './records-pages.tsx';

export function ListPreview({ record, excerpt }: { record: MediaRecord; excerpt?: string | undefined }) {
  if (!currentThumbnailKey(record)) return <Preview record={record} excerpt={excerpt} />;
  return (
    <a href={`/dashboard/records/${record.uid}`} class="thumbnail">
      <img src={`/v1/records/${record.uid}/thumbnail`} alt={record.title ?? record.uid} loading="lazy" />
    </a>
  );
}

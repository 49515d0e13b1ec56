/**
 * Object keys: the one place a key is named. A record's first file gets the seed's `{media_type}/{uid}{ext}`; when
 * that key was ever used (a replacement, a regeneration, a uid re-created after a delete), the file gets a fresh key
 * beside it, because a key once written is never written again.
 */
import { randomBytes } from 'node:crypto';
import type { MediaType } from '../db/schema.ts';

/** `{media_type}/{uid}{ext}`, e.g. `audio/0190…12.mp3`. */
export function canonicalKey(mediaType: MediaType, uid: string, extension: string): string {
  return `${mediaType}/${uid}${extension}`;
}

/** `{media_type}/{uid}.{12 random hex}{ext}`: never used before with overwhelming probability (48 random bits). */
export function freshKey(mediaType: MediaType, uid: string, extension: string): string {
  return `${mediaType}/${uid}.${randomBytes(6).toString('hex')}${extension}`;
}

/** `thumbnails/{uid}.{12 random hex}.webp`: a record's thumbnail, fresh for every thumbnail made. */
export function thumbnailKey(uid: string): string {
  return `thumbnails/${uid}.${randomBytes(6).toString('hex')}.webp`;
}

/** The file name part of a key (what the record's `file_name` says). */
export function keyFileName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

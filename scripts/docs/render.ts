/** Every generated docs page, by its path in the repository. */
import { renderCli } from './cli.ts';
import { renderConfiguration } from './configuration.ts';
import { renderHttpApi } from './http-api.ts';
import { renderMediaFormats } from './media-formats.ts';

export async function renderDocs(): Promise<Record<string, string>> {
  return {
    'docs/cli.md': await renderCli(),
    'docs/configuration.md': renderConfiguration(),
    'docs/http-api.md': await renderHttpApi(),
    'docs/media-formats.md': renderMediaFormats(),
  };
}

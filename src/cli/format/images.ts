// docker's image formatter fields (cli/command/formatter/image.go).
import type { ImageSummary } from '../../client/types.js';
import type { ListSpec } from './render.js';
import { ago, goTime, humanSize } from './units.js';
import { shortId } from './containers.js';

export const IMAGE_SPEC: ListSpec = {
  defaultFormat: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  headers: {
    Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
    Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
  },
  typeName: '*formatter.imageContext',
};

function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

function splitDigest(ref: string): [string, string] {
  const at = ref.indexOf('@');
  return at < 0 ? [ref, '<none>'] : [ref.slice(0, at), ref.slice(at + 1)];
}

export function imageRows(image: ImageSummary, trunc: boolean, now = Date.now()): Array<Record<string, unknown>> {
  const tags = (image.RepoTags ?? []).filter((t) => t !== '<none>:<none>').map(splitTag);
  const digests = (image.RepoDigests ?? []).filter((d) => d !== '<none>@<none>').map(splitDigest);
  const base = {
    ID: trunc ? shortId(image.Id) : image.Id,
    CreatedSince: ago(image.Created, now),
    CreatedAt: goTime(image.Created),
    Size: humanSize(image.Size),
    Containers: image.Containers === undefined || image.Containers < 0 ? 'N/A' : String(image.Containers),
    SharedSize: image.SharedSize === undefined || image.SharedSize < 0 ? 'N/A' : humanSize(image.SharedSize),
    UniqueSize: image.SharedSize === undefined || image.SharedSize < 0 ? 'N/A' : humanSize(image.Size - image.SharedSize),
    VirtualSize: humanSize(image.VirtualSize ?? image.Size, 4),
  };
  if (tags.length === 0 && digests.length === 0) return [{ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' }];
  const rows = tags.map(([repo, tag]) => ({ ...base, Repository: repo, Tag: tag, Digest: digests.find(([r]) => r === repo)?.[1] ?? '<none>' }));
  for (const [repo, digest] of digests) {
    if (!tags.some(([r]) => r === repo)) rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: digest });
  }
  return rows;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOverlayXattr, overlayNeedsUserXattr } from './overlay-xattrs.js';

test('overlay needs userxattr in any user namespace but the initial one', () => {
  assert.equal(overlayNeedsUserXattr('         0          0 4294967295\n'), false);
  assert.equal(overlayNeedsUserXattr('         0       1000          1\n         1     100000      65536\n'), true);
  assert.equal(overlayNeedsUserXattr('         0          0          1\n'), true, 'unshare --map-root-user');
});

test('both forms of overlay metadata are overlay\'s, other xattrs are the file\'s', () => {
  assert.ok(isOverlayXattr('trusted.overlay.opaque'));
  assert.ok(isOverlayXattr('user.overlay.redirect'));
  assert.ok(!isOverlayXattr('user.mime_type'));
  assert.ok(!isOverlayXattr('security.capability'));
});

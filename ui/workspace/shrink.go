package workspace

import "kfdesk/api/picture"

// ShrinkImage re-encodes a picture as a JPEG of at most maxBytes (see picture.Shrink:
// upright, transparency on white, refused before decoding when its header claims too
// many pixels). It is how a too-large photo becomes a valid image or thumb.
func ShrinkImage(data []byte, maxBytes int) ([]byte, error) { return picture.Shrink(data, maxBytes) }

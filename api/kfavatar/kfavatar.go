// Package kfavatar turns any picture the operator picks (JPG, PNG, GIF, BMP,
// WebP) into what kfaccount/uploadheadimg accepts: a JPEG, 640×640 as the docs
// recommend, within the size limit. It sits under api/ because these are WeChat's
// rules for one upload; it has no Fyne, SQL or HTTP, so window and CLI share it.
package kfavatar

import (
	"fmt"
	"image"
	"io"

	"kfdesk/api"
	"kfdesk/api/picture"
)

// Size is the side of the square avatar ("推荐使用640*640").
const Size = 640

// MaxInput bounds the picked file; a camera photo is well under it.
const MaxInput = 50 << 20

// qualities are tried in order until the JPEG fits the limit.
var qualities = []int{92, 85, 75, 60, 45, 30}

// Prepare converts an image file's bytes into the avatar JPEG: read by
// picture.Decode (size cap, upright, transparency on white), centre-cropped square,
// scaled to Size×Size, encoded within api.MaxKFAvatarSize.
func Prepare(data []byte) ([]byte, error) { return prepare(data, api.MaxKFAvatarSize) }

// Read reads a picked file, refusing one over MaxInput (a video picked by mistake).
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxInput {
		return nil, tooLarge()
	}
	return data, nil
}

func tooLarge() error {
	return &api.InputError{Field: "image",
		Chinese: fmt.Sprintf("图片文件太大（超过 %d MB），请换一张。", MaxInput>>20),
		English: fmt.Sprintf("The picture file is too large (over %d MB); pick another.", MaxInput>>20)}
}

func prepare(data []byte, limit int) ([]byte, error) {
	if len(data) > MaxInput {
		return nil, tooLarge()
	}
	img, err := picture.Decode(data)
	if err != nil {
		return nil, err
	}
	out, ok, err := picture.EncodeJPEG(picture.Square(img, Size), limit, qualities)
	if err == nil && !ok {
		err = picture.TooBig(limit)
	}
	return out, err
}

// Thumbnail decodes an avatar (any supported format) into a side×side square for
// display; done off the UI thread, it keeps full-size avatars out of the list.
func Thumbnail(data []byte, side int) (image.Image, error) {
	img, err := picture.Decode(data)
	if err != nil {
		return nil, err
	}
	return picture.Square(img, side), nil
}

package workspace

import (
	"errors"
	"path/filepath"
	"strings"

	"kfdesk/api"
)

// MediaFile is a file chosen for a message, read and checked for its media type.
type MediaFile struct {
	Path string // where it is on this computer
	Name string // the name it is uploaded under (a shrunk picture's ends in .jpg)
	Type string // api.MediaImage, MediaVoice, MediaVideo or MediaThumb
	Data []byte
}

// ReadMedia reads and checks a chosen file (ReadMediaFile). When the check fails
// the file is still returned with the *api.MediaProblem, so that CanShrink can tell
// whether re-encoding it would fix it.
func ReadMedia(path, typ string, miniProgram bool) (MediaFile, error) {
	data, err := ReadMediaFile(path, typ, miniProgram)
	return MediaFile{Path: path, Name: filepath.Base(path), Type: typ, Data: data}, err
}

// CanShrink is the one rule, for the window and the command line, for when a
// picture may be re-encoded as a smaller JPEG: an image or cover (thumb) that is
// too large, or a cover that is not a JPG (WeChat takes only JPG thumbs). Other
// problems (a voice file that is not AMR or MP3, a renamed file) cannot be fixed so.
func CanShrink(f MediaFile, err error) bool {
	var p *api.MediaProblem
	return errors.As(err, &p) && f.Data != nil && (f.Type == api.MediaImage || f.Type == api.MediaThumb) &&
		(p.TooLarge || f.Type == api.MediaThumb)
}

// Shrink re-encodes the picture as a JPEG within its type's size limit.
func (f MediaFile) Shrink() (MediaFile, error) {
	small, err := ShrinkImage(f.Data, api.MediaLimits[f.Type].MaxBytes)
	if err != nil {
		return f, err
	}
	f.Data, f.Name = small, strings.TrimSuffix(f.Name, filepath.Ext(f.Name))+".jpg"
	return f, nil
}

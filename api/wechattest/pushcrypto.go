package wechattest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The message encryption of WeChat's pushes (WXBizMsgCrypt), as the official
// "消息加解密说明" describes it:
// https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md and
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html

// pushBlock is WXBizMsgCrypt's PKCS#7 block: 32 bytes, not AES's 16.
const pushBlock = 32

// decodeAESKey turns the console's 43-character EncodingAESKey into the 32-byte
// AES key: base64 of key+"=". Not strict base64: the official sample key
// (abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG) has non-zero trailing bits.
func decodeAESKey(k string) ([]byte, error) {
	if len(k) != 43 {
		return nil, fmt.Errorf("EncodingAESKey must be 43 characters, got %d", len(k))
	}
	b, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(b) != 32 {
		return nil, errors.New("EncodingAESKey is not base64 of 32 bytes")
	}
	return b, nil
}

// pushSignature is sha1 over the parts sorted bytewise and joined: the GET and
// POST signature (token, timestamp, nonce) and msg_signature (… and Encrypt).
func pushSignature(parts ...string) string {
	p := slices.Clone(parts)
	slices.Sort(p)
	h := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(h[:])
}

// encryptPush builds random(16) ‖ len(msg) (4 bytes, big-endian) ‖ msg ‖ appid,
// pads it to 32 bytes, and encrypts it with AES-256-CBC, IV = key[:16]; the
// answer is the base64 that goes into Encrypt.
func encryptPush(key, random, msg []byte, appid string) string {
	buf := make([]byte, 0, len(random)+4+len(msg)+len(appid)+pushBlock)
	buf = append(buf, random...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, appid...)
	pad := pushBlock - len(buf)%pushBlock // a whole block of padding when already aligned
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key) // key is always 32 bytes (decodeAESKey)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// decryptPush undoes encryptPush, checking the padding and the length field; it
// returns the message and the trailing appid.
func decryptPush(key []byte, enc string) (msg []byte, appid string, err error) {
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, "", errors.New("the Encrypt field is not base64")
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", fmt.Errorf("ciphertext of %d bytes is not whole AES blocks", len(ct))
	}
	block, _ := aes.NewCipher(key)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > pushBlock || pad > len(pt) || !bytes.Equal(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, "", errors.New("bad padding (wrong EncodingAESKey?)")
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, "", errors.New("decrypted text too short")
	}
	n := binary.BigEndian.Uint32(pt[16:20])
	if uint64(n) > uint64(len(pt)-20) {
		return nil, "", errors.New("message length beyond the decrypted text")
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}

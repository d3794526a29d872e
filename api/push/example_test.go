package push_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"kfdesk/api/push"
)

// The shape of a push handler (the HTTP front-end is not this package's): read
// at most MaxBody+1 bytes, Open, store, then answer within WeChat's 5 s. The
// query and body are the MP doc's JSON safe-mode example.
func ExampleVerifier_Open() {
	v, err := push.New(push.Config{Token: "AAAAA", EncodingAESKey: strings.Repeat("A", 43), AppID: "wxba5fad812f8e6fb9"})
	if err != nil {
		panic(err)
	}
	r, _ := http.NewRequest("POST", "/push/demo?signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
		strings.NewReader(`{"ToUserName":"gh_97417a04a28d","Encrypt":"+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="}`))
	now := time.Unix(1714112445, 0) // clock.Now() in the product

	body, _ := io.ReadAll(io.LimitReader(r.Body, push.MaxBody+1))
	p, err := v.Open(r.URL.Query(), body, now, push.DefaultWindow)
	if err != nil {
		fmt.Println("refused:", err) // 403, and a log line without secrets or text
		return
	}
	m, err := push.ParseMessage(p.Body)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(p.Mode, p.Format, m.MsgType, m.Event, m.Key("wxba5fad812f8e6fb9").FromUser)
	// ... store p.Body and m in one transaction, keyed by m.Key(appid), then:
	answer, _ := v.Seal(rand.Reader, p, []byte(push.Success), now)
	fmt.Println(string(answer))
	// Output:
	// safe json event debug_demo o9AgO5Kd5ggOC-bXrbNODIiE3bGY
	// success
}

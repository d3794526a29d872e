package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// fill gives every field under v a value derived from its path: pointers point,
// slices have two elements. A kind it does not know (a map, an interface) fails the
// test, so a field added later cannot slip past Clone unseen.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(len(path)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fill(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("%s is a %s: teach Message.Clone (and this test) to copy it", path, v.Kind())
	}
}

// shareNothing fails if a and b share a pointer or a slice's backing array anywhere.
func shareNothing(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			t.Fatalf("%s: nil after fill", path)
		}
		if a.Pointer() == b.Pointer() {
			t.Fatalf("%s is shared with the clone", path)
		}
		shareNothing(t, a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			t.Fatalf("%s shares its array with the clone", path)
		}
		for i := 0; i < min(a.Len(), b.Len()); i++ {
			shareNothing(t, a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			shareNothing(t, a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
		}
	}
}

// scribble changes every value under v in place, as a form would, and appends to slices.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + " (edited)")
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Pointer:
		scribble(v.Elem())
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			scribble(v.Index(i))
		}
		v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			scribble(v.Field(i))
		}
	}
}

func TestCloneSharesNothing(t *testing.T) {
	var orig, want Message
	fill(t, reflect.ValueOf(&orig).Elem(), "m")
	fill(t, reflect.ValueOf(&want).Elem(), "m")
	c := orig.Clone()
	if !reflect.DeepEqual(*c, orig) {
		t.Fatalf("clone differs:\n%+v\n%+v", *c, orig)
	}
	shareNothing(t, reflect.ValueOf(&orig).Elem(), reflect.ValueOf(c).Elem(), "m")

	// Editing every field of the clone leaves the original as it was, and the other way round.
	scribble(reflect.ValueOf(c).Elem())
	if !reflect.DeepEqual(orig, want) {
		t.Fatalf("editing the clone changed the original:\n%+v", orig)
	}
	c = orig.Clone()
	scribble(reflect.ValueOf(&orig).Elem())
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("editing the original changed the clone:\n%+v", *c)
	}
}

// What is absent stays absent and an empty list stays [] (not null): the clone sends the same bytes.
func TestCloneSendsTheSameBody(t *testing.T) {
	var nilMsg *Message
	if nilMsg.Clone() != nil {
		t.Fatal("a nil message cloned into one")
	}
	for _, m := range []*Message{NewMessage(), {MsgType: TypeText},
		{ToUser: "o1", MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{HeadContent: "h", List: []MenuOption{}}}} {
		a, _ := json.Marshal(m)
		b, _ := json.Marshal(m.Clone())
		if !bytes.Equal(a, b) {
			t.Fatalf("clone marshals as %s, original %s", b, a)
		}
	}
}

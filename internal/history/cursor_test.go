package history

import "testing"

func TestCursor(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Position
		ok   bool
	}{
		{name: "first", in: "c1", want: 1, ok: true},
		{name: "large", in: "c18446744073709551615", want: 18446744073709551615, ok: true},
		{name: "empty", in: ""},
		{name: "prefix only", in: "c"},
		{name: "zero", in: "c0"},
		{name: "leading zero", in: "c01"},
		{name: "sign", in: "c+1"},
		{name: "negative", in: "c-1"},
		{name: "overflow", in: "c18446744073709551616"},
		{name: "upper case prefix", in: "C1"},
		{name: "a notification id", in: "01JNKQ7Y2V0000000000000000"},
		{name: "trailing garbage", in: "c12x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCursor(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseCursor(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok && got.Cursor() != tt.in {
				t.Errorf("Cursor() = %q, want %q back", got.Cursor(), tt.in)
			}
		})
	}
	if Position(0).Cursor() != "" {
		t.Error("position 0 has a cursor")
	}
}

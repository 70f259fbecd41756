package samtemplate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// goformation resolves intrinsic functions while it parses: Ref to a
// parameter becomes the parameter's default, and Ref or GetAtt to a resource
// becomes nothing, so "!Sub integrations/${MessageIntegration}" would read
// "integrations/". That loses exactly what this package reads (which
// integration a route targets, which table a policy names). So every
// intrinsic is kept instead, in goformation's own encoding for an intrinsic
// inside a string field (base64 of its JSON form), and rendered later in
// Fn::Sub syntax. The one exception is a Ref to a Number parameter, which
// becomes the parameter's default: goformation's typed fields for such
// values are numbers (e.g. ThrottlingBurstLimit), and a string there would
// fail the parse.

// intrinsicNames lists every intrinsic function that goformation handles.
var intrinsicNames = []string{
	"Ref", "Fn::Base64", "Fn::And", "Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or", "Fn::FindInMap",
	"Fn::GetAtt", "Fn::GetAZs", "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub",
	"Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
}

// processorOptions returns goformation options that keep intrinsics (see above).
func processorOptions() *intrinsics.ProcessorOptions {
	handlers := make(map[string]intrinsics.IntrinsicHandler, len(intrinsicNames))
	for _, name := range intrinsicNames {
		handlers[name] = keep
	}
	handlers["Ref"] = keepRef
	return &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: handlers}
}

// keep returns the intrinsic name(input) unresolved, encoded as goformation
// encodes an intrinsic in a string field.
func keep(name string, input any, _ any) any {
	b, err := json.Marshal(map[string]any{name: input})
	if err != nil {
		return nil // input came from JSON, so it marshals
	}
	return base64.StdEncoding.EncodeToString(b)
}

// keepRef keeps a Ref, except that a Ref to a Number parameter with a
// default becomes that default and AWS::NoValue removes the property.
func keepRef(name string, input any, template any) any {
	ref, _ := input.(string)
	if ref == "AWS::NoValue" {
		return nil
	}
	if v, ok := numberDefault(template, ref); ok {
		return v
	}
	return keep(name, input, template)
}

// numberDefault returns the default of the Number parameter named ref.
func numberDefault(template any, ref string) (float64, bool) {
	tm, _ := template.(map[string]any)
	params, _ := tm["Parameters"].(map[string]any)
	p, _ := params[ref].(map[string]any)
	if p == nil || p["Type"] != "Number" {
		return 0, false
	}
	switch d := p["Default"].(type) {
	case float64:
		return d, true
	case string:
		f, err := strconv.ParseFloat(d, 64)
		return f, err == nil
	}
	return 0, false
}

// decode turns the intrinsics that processorOptions encoded in v back into
// their JSON form ({"Ref": "X"}, {"Fn::Sub": "..."}), at any depth.
func decode(v any) any {
	switch v := v.(type) {
	case string:
		if fn, ok := decodeIntrinsic(v); ok {
			return fn
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = decode(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = decode(e)
		}
		return out
	}
	return v
}

// decodeIntrinsic decodes one encoded intrinsic.
func decodeIntrinsic(s string) (map[string]any, bool) {
	if len(s) < 8 || len(s)%4 != 0 {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) != 1 {
		return nil, false
	}
	for k, inner := range m {
		if k != "Ref" && !strings.HasPrefix(k, "Fn::") {
			return nil, false
		}
		return map[string]any{k: decode(inner)}, true
	}
	return nil, false
}

// render writes a template value in Fn::Sub syntax: a literal as itself, a Ref
// as ${Name}, a GetAtt as ${Name.Attribute}, a Sub as its template with its
// variables rendered, a Join as its rendered parts joined. Other intrinsics,
// lists and objects are errors. v may hold encoded intrinsics.
func render(v any) (string, error) {
	switch v := decode(v).(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any:
		return renderIntrinsic(v)
	}
	return "", fmt.Errorf("cannot render %T as a string", v)
}

func renderIntrinsic(m map[string]any) (string, error) {
	if len(m) != 1 {
		return "", fmt.Errorf("cannot render an object with %d keys as a string", len(m))
	}
	for name, arg := range m {
		switch name {
		case "Ref":
			if s, ok := arg.(string); ok {
				return "${" + s + "}", nil
			}
		case "Fn::GetAtt":
			switch a := arg.(type) {
			case string:
				return "${" + a + "}", nil
			case []any:
				if len(a) == 2 {
					res, _ := a[0].(string)
					attr, err := render(a[1])
					if err == nil && res != "" {
						return "${" + res + "." + attr + "}", nil
					}
				}
			}
		case "Fn::Sub":
			return renderSub(arg)
		case "Fn::Join":
			a, ok := arg.([]any)
			if !ok || len(a) != 2 {
				break
			}
			sep, ok1 := a[0].(string)
			parts, ok2 := a[1].([]any)
			if !ok1 || !ok2 {
				break
			}
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := render(p)
				if err != nil {
					return "", err
				}
				out[i] = s
			}
			return strings.Join(out, sep), nil
		default:
			return "", fmt.Errorf("cannot render %s as a string", name)
		}
		return "", fmt.Errorf("malformed %s", name)
	}
	return "", nil // unreachable: m has one key
}

func renderSub(arg any) (string, error) {
	switch a := arg.(type) {
	case string:
		return a, nil
	case []any:
		if len(a) != 2 {
			break
		}
		tmpl, ok1 := a[0].(string)
		vars, ok2 := a[1].(map[string]any)
		if !ok1 || !ok2 {
			break
		}
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			s, err := render(vars[k])
			if err != nil {
				return "", fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			tmpl = strings.ReplaceAll(tmpl, "${"+k+"}", s)
		}
		return tmpl, nil
	}
	return "", fmt.Errorf("malformed Fn::Sub")
}

// renderList renders a value that is one string-like value or a list of them
// (an IAM Action or Resource).
func renderList(v any) ([]string, error) {
	list, ok := decode(v).([]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		s, err := render(v)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, err := render(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// refTarget returns X when s renders as "${X}" or "${X.Attribute}", the
// logical ID that a Ref or GetAtt names.
func refTarget(rendered string) (string, bool) {
	if !strings.HasPrefix(rendered, "${") || !strings.HasSuffix(rendered, "}") {
		return "", false
	}
	inner := rendered[2 : len(rendered)-1]
	if strings.ContainsAny(inner, "${}") || inner == "" {
		return "", false
	}
	id, _, _ := strings.Cut(inner, ".")
	return id, true
}

package publisher

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/finance/fbdi-notify/schemas"
)

// compiled holds the two queue schemas, compiled once from schemas.FS.
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	names := []string{schemas.NotificationMessage, schemas.WorkflowMessage}
	c := jsonschema.NewCompiler()
	for _, name := range names {
		data, err := schemas.FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("publisher: read schema %s: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("publisher: read schema %s: %w", name, err)
		}
		if err := c.AddResource(schemas.BaseURL+name, doc); err != nil {
			return nil, fmt.Errorf("publisher: add schema %s: %w", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range names {
		s, err := c.Compile(schemas.BaseURL + name)
		if err != nil {
			return nil, fmt.Errorf("publisher: compile schema %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
})

// checkSchema validates body against the schema name. It returns an
// *InvalidError naming the first field at fault, in path order.
func checkSchema(name string, body []byte) error {
	all, err := compiled()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &InvalidError{Reason: "the message is not JSON"}
	}
	var verr *jsonschema.ValidationError
	if err := all[name].Validate(doc); !errors.As(err, &verr) {
		return err
	}
	problems := leaves(verr)
	slices.SortStableFunc(problems, func(a, b InvalidError) int { return strings.Compare(a.Field, b.Field) })
	return &problems[0]
}

// leaves returns one problem per innermost error of e: the field it is about
// (with the property a required, additionalProperties or propertyNames error
// names) and the schema library's sentence for it.
func leaves(e *jsonschema.ValidationError) []InvalidError {
	_, names := e.ErrorKind.(*kind.PropertyNames) // its causes are about the name, validated on its own
	if len(e.Causes) > 0 && !names {
		var out []InvalidError
		for _, c := range e.Causes {
			out = append(out, leaves(c)...)
		}
		return out
	}
	at := func(name string) string { return fieldPath(append(slices.Clone(e.InstanceLocation), name)) }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		return []InvalidError{{Field: at(k.Missing[0]), Reason: "is required"}}
	case *kind.AdditionalProperties:
		return []InvalidError{{Field: at(k.Properties[0]), Reason: "is not a field of this message"}}
	case *kind.PropertyNames:
		return []InvalidError{{Field: at(k.Property), Reason: "is not a field of this message's type"}}
	}
	return []InvalidError{{Field: fieldPath(e.InstanceLocation), Reason: sentence(e.ErrorKind)}}
}

// sentence is the schema library's English text for one error kind.
func sentence(k jsonschema.ErrorKind) string {
	out := (&jsonschema.ValidationError{ErrorKind: k}).BasicOutput()
	if out.Error == nil {
		return "is not valid"
	}
	return out.Error.String()
}

// fieldPath writes an instance location as a path: ["lines","0","amount"]
// is lines[0].amount.
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, tok := range tokens {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

package oracle

import "strings"

// Job is an ESS job to submit: its package, its definition and its positional
// parameters (submit.argument1..N).
type Job struct {
	Package    string   // e.g. /oracle/apps/ess/financials/commonModules/shared/common/interfaceLoader/
	Definition string   // e.g. InterfaceLoaderController
	Params     []string // positional; "" means null
}

// ESSParameters returns j.Params in Oracle's ESSParameters syntax: the values
// joined by commas, in order; an empty value is #NULL; a value that contains a
// comma or a double quote is wrapped in double quotes, with each double quote
// inside doubled. A job without parameters gives "" (Oracle's default: no
// arguments).
//
//	[]string{"51", "900001", "N", "N"}  -> 51,900001,N,N
//	[]string{"A,B", "", `say "hi"`}      -> "A,B",#NULL,"say ""hi"""
func (j Job) ESSParameters() string {
	parts := make([]string, len(j.Params))
	for i, p := range j.Params {
		switch {
		case p == "":
			parts[i] = "#NULL"
		case strings.ContainsAny(p, `,"`):
			parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
		default:
			parts[i] = p
		}
	}
	return strings.Join(parts, ",")
}

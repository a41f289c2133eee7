package auditlog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/carepost/carepost/shared/resources"
)

// TimeLayout is the fixed-width UTC time used in keys, so keys sort as
// strings in time order.
const TimeLayout = "20060102T150405.000000000Z"

// Item attribute names besides the keys. Empty strings are not stored.
const (
	attrSeq     = "seq"
	attrTime    = "t"
	attrActor   = "actor"
	attrRole    = "role"
	attrIP      = "ip"
	attrAction  = "action"
	attrPatient = "patient"
	attrObject  = "object"
	attrOutcome = "outcome"
	attrPrev    = "prev"
	attrHash    = "hash"
)

func chainPK(practiceID string) string { return "PRAC#" + practiceID + "#AUDIT" }

func seqSK(seq int64) string { return fmt.Sprintf("SEQ#%012d", seq) }

func patientPK(practiceID, patientID string) string {
	return "PRAC#" + practiceID + "#PATAUDIT#" + patientID
}

func patientSK(t time.Time, seq int64) string {
	return t.UTC().Format(TimeLayout) + fmt.Sprintf("#%012d", seq)
}

// parseSeqSK returns the seq of an sk "SEQ#000000000042".
func parseSeqSK(sk string) (int64, bool) {
	s, ok := strings.CutPrefix(sk, "SEQ#")
	if !ok || len(s) != 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// parseCursor checks that a ListPatient cursor has the shape of a gsi1sk.
func parseCursor(c string) bool {
	ts, seq, ok := strings.Cut(c, "#")
	if !ok || len(seq) != 12 {
		return false
	}
	if _, err := time.Parse(TimeLayout, ts); err != nil {
		return false
	}
	_, err := strconv.ParseUint(seq, 10, 64)
	return err == nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func toItem(e Event) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		resources.AttrPK: str(chainPK(e.PracticeID)),
		resources.AttrSK: str(seqSK(e.Seq)),
		attrSeq:          &types.AttributeValueMemberN{Value: strconv.FormatInt(e.Seq, 10)},
		attrTime:         str(e.Time.UTC().Format(TimeLayout)),
		attrPrev:         str(e.Prev),
		attrHash:         str(e.Hash),
		attrOutcome:      str(string(e.Outcome)),
	}
	for name, v := range map[string]string{
		attrActor: e.Actor, attrRole: e.ActorRole, attrIP: e.SourceIP,
		attrAction: e.Action, attrPatient: e.PatientID, attrObject: e.Object,
	} {
		if v != "" {
			item[name] = str(v)
		}
	}
	if e.PatientID != "" {
		item[resources.AttrGSI1PK] = str(patientPK(e.PracticeID, e.PatientID))
		item[resources.AttrGSI1SK] = str(patientSK(e.Time, e.Seq))
	}
	return item
}

// fromItem decodes a stored event of practiceID. It reports malformed items
// (wrong types, unparsable numbers or times) as errors, never guesses.
func fromItem(practiceID string, item map[string]types.AttributeValue) (Event, error) {
	e := Event{PracticeID: practiceID}
	getS := func(name string) (string, error) {
		av, ok := item[name]
		if !ok {
			return "", nil
		}
		s, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("attribute %s is not a string", name)
		}
		return s.Value, nil
	}
	n, ok := item[attrSeq].(*types.AttributeValueMemberN)
	if !ok {
		return Event{}, fmt.Errorf("attribute %s is missing or not a number", attrSeq)
	}
	seq, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("attribute %s is not an integer", attrSeq)
	}
	e.Seq = seq
	ts, err := getS(attrTime)
	if err != nil {
		return Event{}, err
	}
	if e.Time, err = time.Parse(TimeLayout, ts); err != nil {
		return Event{}, fmt.Errorf("attribute %s is not a %s time", attrTime, TimeLayout)
	}
	var outcome string
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{attrActor, &e.Actor}, {attrRole, &e.ActorRole}, {attrIP, &e.SourceIP},
		{attrAction, &e.Action}, {attrPatient, &e.PatientID}, {attrObject, &e.Object},
		{attrOutcome, &outcome}, {attrPrev, &e.Prev}, {attrHash, &e.Hash},
	} {
		if *f.dst, err = getS(f.name); err != nil {
			return Event{}, err
		}
	}
	e.Outcome = Outcome(outcome)
	return e, nil
}

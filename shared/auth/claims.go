package auth

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/carepost/carepost/shared/carepost"
	"github.com/golang-jwt/jwt/v5"
)

// Claim and attribute names, spelled exactly as Cognito spells them in an ID
// token. The custom attributes must exist in the user pool (as mutable string
// attributes) and be readable by the app client, or Cognito leaves them out of
// the token.
const (
	ClaimGroups    = "cognito:groups"
	ClaimTokenUse  = "token_use"
	AttrPracticeID = "custom:practice_id"
	AttrPatientID  = "custom:patient_id"
	AttrGrants     = "custom:grants"
	AttrName       = "name"
	AttrEmail      = "email"
)

// MaxGrantsLen is the longest custom:grants value Cognito stores: custom
// string attributes hold at most 2,048 characters.
const MaxGrantsLen = 2048

// idClaims is the part of a Cognito ID token CarePost reads.
type idClaims struct {
	jwt.RegisteredClaims          // iss, sub, aud (string or array), exp, nbf, iat, jti
	TokenUse             string   `json:"token_use"`
	Groups               []string `json:"cognito:groups"`
	PracticeID           string   `json:"custom:practice_id"`
	PatientID            string   `json:"custom:patient_id"`
	Grants               string   `json:"custom:grants"`
	Name                 string   `json:"name"`
	Email                string   `json:"email"`
}

// RoleFromGroups picks the principal's role from its Cognito groups: groups
// that are not roles are ignored, and if a user is in several role groups the
// first one wins. ok is false when no group is a role.
func RoleFromGroups(groups []string) (carepost.Role, bool) {
	for _, g := range groups {
		if r := carepost.Role(g); r.Valid() {
			return r, true
		}
	}
	return "", false
}

// EncodeGrants renders proxy grants as the JSON string stored in
// custom:grants. An empty list encodes as "".
func EncodeGrants(grants []carepost.Grant) (string, error) {
	if len(grants) == 0 {
		return "", nil
	}
	for i, g := range grants {
		if strings.TrimSpace(g.PatientID) == "" {
			return "", carepost.FieldError(carepost.CodeValidation, "grants["+strconv.Itoa(i)+"].patientId", "a grant needs a patient id")
		}
		if !g.Scope.Read && g.Scope.Write {
			return "", carepost.FieldError(carepost.CodeValidation, "grants["+strconv.Itoa(i)+"].scope", "a grant that may write must also read")
		}
		for _, c := range g.Scope.Categories {
			if !carepost.Category(c).Valid() {
				return "", carepost.FieldError(carepost.CodeValidation, "grants["+strconv.Itoa(i)+"].scope.categories", "unknown category")
			}
		}
	}
	b, err := json.Marshal(grants)
	if err != nil {
		return "", carepost.Wrap(carepost.CodeInternal, err, "grants could not be encoded")
	}
	if len(b) > MaxGrantsLen {
		return "", carepost.FieldError(carepost.CodeValidation, "grants", "too many grants: the encoded list exceeds %d characters", MaxGrantsLen)
	}
	return string(b), nil
}

// DecodeGrants parses a custom:grants value. "", "[]" and "null" are no
// grants (nil).
func DecodeGrants(s string) ([]carepost.Grant, error) {
	if s == "" {
		return nil, nil
	}
	var grants []carepost.Grant
	if err := json.Unmarshal([]byte(s), &grants); err != nil {
		return nil, carepost.Errorf(carepost.CodeInvalid, "proxy grants are malformed")
	}
	for _, g := range grants {
		if g.PatientID == "" {
			return nil, carepost.Errorf(carepost.CodeInvalid, "a proxy grant has no patient id")
		}
	}
	if len(grants) == 0 {
		return nil, nil // "[]" and "null" are no grants, like ""
	}
	return grants, nil
}

// staffRoles are the roles a practice admin may give and change.
var staffRoles = []carepost.Role{carepost.RoleFrontDesk, carepost.RoleNurse, carepost.RoleClinician, carepost.RoleAdmin, carepost.RoleScheduler}

// IsStaffRole reports whether r is a role an admin may assign with SetRole:
// front desk, nurse, clinician, admin or scheduler. Patients, proxies and
// operators are never made by a role change.
func IsStaffRole(r carepost.Role) bool { return slices.Contains(staffRoles, r) }

// checkAccount applies the rules every account and every token must satisfy:
// a known role, a practice for everyone but operators, a patient id for
// patients. It reports the first violation as a safe message.
func checkAccount(role carepost.Role, practiceID, patientID string) (msg string, ok bool) {
	switch {
	case !role.Valid():
		return "no known role", false
	case role != carepost.RoleOperator && practiceID == "":
		return "no practice", false
	case role == carepost.RolePatient && patientID == "":
		return "a patient account has no patient id", false
	}
	return "", true
}

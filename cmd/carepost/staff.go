package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
)

func init() {
	commands["staff"] = command{summary: "staff accounts: invite, list, role, disable",
		run: adminGroup("staff", map[string]adminVerb{"invite": staffInvite, "list": staffList, "role": staffRole, "disable": staffDisable})}
}

func staffInvite(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	fs := adminFlags("staff invite")
	email := fs.String("email", "", "work e-mail (the invitation goes there)")
	name := fs.String("name", "", "name as patients see it, e.g. \"Nora Nurse, RN\"")
	role := fs.String("role", "", "frontdesk, nurse, clinician, admin or scheduler")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ref struct{ Subject, Role string }
	if err := c.do(ctx, "POST", "/v1/staff", map[string]string{"email": *email, "name": *name, "role": *role}, &ref); err != nil {
		return err
	}
	fmt.Fprintf(out, "invited %s as %s (subject %s); the invitation went to the e-mail given\n", *name, ref.Role, ref.Subject)
	return nil
}

func staffList(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	var res struct {
		Items []struct {
			Subject, Name, Email, Role string
			Disabled                   bool
		}
	}
	if err := c.do(ctx, "GET", "/v1/staff", nil, &res); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-36s %-24s %-30s %-10s %s\n", "SUBJECT", "NAME", "E-MAIL", "ROLE", "STATE")
	for _, s := range res.Items {
		state := "active"
		if s.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(out, "%-36s %-24s %-30s %-10s %s\n", s.Subject, s.Name, s.Email, s.Role, state)
	}
	return nil
}

func staffRole(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: carepost staff role SUBJECT ROLE")
	}
	if err := c.do(ctx, "PUT", "/v1/staff/"+url.PathEscape(args[0])+"/role", map[string]string{"role": args[1]}, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is now %s; they sign in again\n", args[0], args[1])
	return nil
}

func staffDisable(ctx context.Context, c *apiClient, args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: carepost staff disable SUBJECT")
	}
	var ref struct{ Reassigned []string }
	if err := c.do(ctx, "POST", "/v1/staff/"+url.PathEscape(args[0])+"/disable", nil, &ref); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s disabled; access ended\n", args[0])
	for _, r := range ref.Reassigned {
		fmt.Fprintf(out, "  settings changed: %s\n", r)
	}
	return nil
}

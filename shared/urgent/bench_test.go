package urgent

import "testing"

// benchMessage is a ~500-character routine message: the common case, which
// has to be scanned end to end because nothing matches early.
const benchMessage = "Hi Dr. Alvarez, hope you had a nice weekend. I wanted to follow up on my visit from last Tuesday. " +
	"The new lisinopril dose seems to be working, my readings this week were 132/84, 128/80 and 141/88. " +
	"No chest pain or shortness of breath since we talked, just a bit of a dry cough in the evenings, " +
	"which the pharmacist said can happen with this medication. Could you send a 90 day refill to the " +
	"Walgreens on 5th street? Also my insurance changed in January, I will bring the new card to my " +
	"appointment on 3/14. Thanks so much, Maria"

func BenchmarkCheck(b *testing.B) {
	c, err := New([]string{"sepsis", "blood clot"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchMessage)))
	b.ReportAllocs()
	var urgent int
	for b.Loop() {
		if c.Check("Follow up", benchMessage, nil).Urgent {
			urgent++
		}
	}
	if urgent != 0 {
		b.Fatalf("benchmark message flagged urgent")
	}
}

func BenchmarkCheckUrgent(b *testing.B) {
	c, _ := New(nil)
	msg := benchMessage + " PS: since this morning I have crushing chest pain and I can't catch my breath."
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if !c.Check("", msg, nil).Urgent {
			b.Fatal("not urgent")
		}
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New([]string{"sepsis", "blood clot", "pulmonary embolism"}); err != nil {
			b.Fatal(err)
		}
	}
}

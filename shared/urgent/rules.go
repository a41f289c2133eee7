package urgent

// Rule tables. Patterns use the small language described in pattern.go.
// Groups are plain alternation lists; wrap them in parentheses where used:
// "(@breathe|air)".
//
// When adding a rule, add a realistic message that needs it to
// testdata/corpus.jsonl first, and a message that must not trigger it.

const (
	kFlag       ruleKind = iota
	kNeg                 // negation before a term: "no", "denies", "haven't"
	kPseudoNeg           // looks like negation but is not: "not sure", "doesn't help"
	kPost                // resolution after a term: "is gone", "went away"
	kPseudoPost          // "hasn't gone away", "won't stop"
	kHypo                // hypothetical or educational: "if", "risk of", "warning signs"
	kPseudoHypo          // "not sure if", "even if", "as if"
	kHist                // historical or someone else's past: "died", "years ago", "in 2019"
	kPseudoHist          // "prior to", "feel like death"
	kRecent              // makes a mention current again: "today", "again", "right now"
	kRecur               // undoes a resolution in the sentence: "back", "worse"
	kBenign              // fixed phrases that are never red flags: "food poisoning"
	kKwBP                // measurement keywords
	kKwBPDia
	kKwGlucose
	kKwTemp
	kKwHR
	kKwSpO2
	kMedContext // medication words: a bare 250/50 near them is a strength, not a reading
	kExertion   // exercise: a fast heart rate in the same clause is expected
	numKinds    // must stay below 31: kinds are bits in a uint32 (bit 31 is ratioUsed)
)

var groups = map[string]string{
	"cant":    "cant|cannot|can not|couldnt|could not|unable to|not able to|cnt|hardly|barely|can hardly|can barely|cant even|struggling to|struggle to|cant really",
	"breathe": "breathe|breath|breathing|breaths|breathin|brething|breth|brethe|breathes",
	"chest":   "chest|chests|sternum|breastbone",
	// symptom words after "chest": "chest feels tight", "chest is killing me"
	"cpa": "pain|pains|painful|pian|pane|hurt*|ache|aches|aching|achy|pressure|tight*|heavy|heaviness|squeez*|crush*|discomfort|burn*|sore|stab*|sharp|killing|pound*|pressing|clench*|constrict*|caving|weight",
	// symptom words before "chest": "pressure on my chest", "pain in the centre of my chest"
	"cpb":     "pain|pains|pian|ache|aching|hurt*|pressure|tightness|tight|heaviness|heavy|squeez*|crush*|discomfort|burning|stab*|sharp|weight|elephant|pressing",
	"meds":    "pill|pills|med|meds|medication*|medicine*|tablet*|tabs|capsule*|tylenol|acetaminophen|paracetamol|advil|ibuprofen|motrin|aspirin|oxy*|percocet*|vicodin|norco|xanax|benadryl|insulin|sleeping|ambien|klonopin|valium|ativan|lithium|seroquel|trazodone|gabapentin|fentanyl|heroin|methadone|suboxone|adderall|opioid*|opiate*|antidepressant*|zoloft|prozac|lexapro",
	"who":     "he|she|hes|shes|baby|son|daughter|husband|wife|kid|child|toddler|mom|dad|mother|father|grandma|grandpa|partner|boyfriend|girlfriend",
	"seiznot": "med|meds|medication|medications|medicine|medicines|pill|pills|prescription|prescriptions|rx|disorder|doctor|dr|neurologist|specialist|clinic|free|precaution|precautions|plan|action|diary|log|threshold|control|drug|drugs|refill|dog|alert|monitor|activity|history",
	"thinner": "eliquis|xarelto|warfarin|coumadin|thinner|thinners|apixaban|rivaroxaban|pradaxa|plavix|clopidogrel|lovenox",
	"dose":    "ml|mls|mg|units|unit|tablets|tablet|pills|tabs|teaspoons|teaspoon|tsp|cc|doses|capsules",
	"ago":     "minutes ago|mins ago|min ago|hours ago|hrs ago|hour ago|an hour ago",
}

type flagTable struct {
	flag     Flag
	patterns []string
}

var flagRules = []flagTable{
	{FlagChestPain, []string{
		"(@chest) ..3 (@cpa)",
		"(@cpb) ..5 (@chest)",
		"heart ..2 attack",
		"(heart|ticker*) ..3 (squeez*|crush*|hurt*|pain|pains|ache|aching|pressure|clench*|stab*)",
		"ticker* ..3 (act*|funny|weird|pound*|rac*|flutter*|skip*|bad|off|trouble|giving|wonky)",
		"angina",
		"(took|taken|taking|used|use|popped|take|tried) ..3 (nitro*|nitrostat|gtn)",
		"(pain|ache|aching|pressure|hurt*|numb*|tingl*) ..3 (radiat*|spread*|shoot*|goes|going|travel*|moving|moves) ..3 (arm|jaw)",
	}},
	{FlagBreathing, []string{
		"(@cant) ..2 (catch|get|take|draw) ..3 (@breathe|air|oxygen)",
		"(@cant) ..2 (@breathe)",
		"(hard|difficult|difficulty|difficulties|trouble|troubles|struggl*|labored|laboured|problem|problems|tough|harder|impossible|issues) ..3 (@breathe)",
		"(@breathe) ..3 (hard|difficult|labored|laboured|fast|rapid|shallow|weird|funny|strange|noisy|worse|struggl*|gasp*|raspy|harder|hurts|painful)",
		"short* ..2 of ..1 (@breathe)",
		"^SOB",
		"out of (@breathe)",
		"gasp* ..3 (air|@breathe|for)",
		"(suffocat*|smother*|drowning|choking|choked)",
		"air hunger",
		"breathless*",
		"(lips|lip|face|fingers|fingernails|nails|skin|mouth|toes|@who) ..3 (blue|bluish|purple|gray|grey|dusky)",
		"(turn*|going|gone|went) (blue|purple|gray|grey)",
		"(not|isnt|stopped|stops|quit|wasnt) breathing",
		"(ribs|chest|belly|stomach) ..3 (suck*|pull*|retract*|caving)",
		"grunting",
		"(inhaler|nebulizer|nebuliser|neb|albuterol|rescue|puffer|ventolin|proair) ..5 (not|isnt|arent|doesnt|didnt|wont|nothing|no|never) ..2 (help*|work*)",
		"(inhaler|nebulizer|nebuliser|neb|albuterol|puffer) ..3 (did|does|do|doing) nothing",
		"(@cant) (lie|lay) (flat|down)",
		"(@cant) ..2 (talk|speak) ..3 (sentence*|breath*)",
		"winded ..3 (talking|sitting|resting|rest|lying|laying)",
		"(hurts|hurt|painful|pain|pains) (to|when) i? ..2 (@breathe)",
	}},
	{FlagStroke, []string{
		"face ..3 (droop*|numb*|crooked|lopsided|sag*|uneven|paraly*|slack|weak*|tingl*|frozen|falling)",
		"droop* ..4 (face|mouth|eye|eyes|eyelid|lip|smile|side)",
		"(mouth|smile|lip|lips) ..3 (crooked|droop*|lopsided|uneven|sag*|slant*)",
		"(numb*|weak*|droop*|drool*|tingl*|paraly*|heavy|@cant feel|@cant move) ..5 (one|left|right) side",
		"(left|right) (arm|leg|hand|side|foot|face) ..3 (numb*|weak*|heavy|tingl*|dead|limp|useless|paraly*|drag*)",
		"(left|right) (arm|leg|hand|side|foot) ..4 (wont|cant|not|isnt) ..1 (move|moving|work*|lift*)",
		"(@cant) ..1 (move|lift|raise|feel|use) ..3 (arm|arms|leg|legs|hand|face|foot|side)",
		"(slurred|slurring|slurry|slurs|slur)",
		"speech ..3 (slur*|garbl*|weird|funny|strange|off|jumbl*|thick|gibberish|nonsense|mumbl*)",
		"words ..4 (jumbl*|garbl*|wrong|mixed|scrambl*|gibberish|nonsense|slur*)",
		"(talking|talks|speaking|saying|talk) ..2 (gibberish|nonsense|funny|weird|strange|jumbl*|garbl*)",
		"(@cant) ..1 (speak|talk) (properly|right|clearly|straight)",
		"(@cant) find ..2 words",
		"stroke !(of|risk|risks|prevention|awareness|education|clinic|support|rehab|association|survivor|survivors|workup|work|test|tests|testing|scan|scans|ct|mri|evaluation|protocol|team|unit|center|centre|neurologist|doctor|follow)",
		"^TIA",
		"(sudden*|out of nowhere|all of a sudden) ..3 (confus*|disorient*)",
		"(confus*|disorient*) ..4 (since|this morning|today|tonight|suddenly|sudden|all of a sudden|out of nowhere)",
		"(sudden*|out of nowhere|all of a sudden) ..4 (vision|blind*|double|@cant see|see double)",
		"(vision|sight) (loss|lost|gone|went)",
		"(lost|losing|loss of) ..2 (vision|sight)",
		"double vision",
		"(@cant) see ..4 (eye|side)",
		"(sudden*|out of nowhere|all of a sudden) ..4 (balance|@cant walk)",
	}},
	{FlagWorstHeadache, []string{
		"worst ..2 (headache|headaches|migraine|head)",
		"thunderclap",
		"(sudden*|explosive|exploding) ..4 (headache|head pain)",
		"(headache|fever) ..10 neck ..2 (stiff|stiffness)",
		"stiff neck ..10 (fever|headache|vomit*|throwing up|rash)",
		"(fever|headache) ..10 stiff neck",
	}},
	{FlagSeverePain, []string{
		"worst pain ..4 (life|ever)",
	}},
	{FlagSelfHarm, []string{
		"(kill|kil|killing|end|ending|off|offing|shoot|hang|drown) (myself|meself|mysef)",
		"(kill|kil|killing|shoot|hang) my self",
		"(want|wants|wanted|wanna|going|gonna|thought|thoughts|thinking|think|urge|urges|tempted|tempting|might|will|plan|planning|feel like|scared|afraid|about to|keep) ..4 (hurt*|harm*|cut*|burn*) (myself|my self)",
		"(hurt*|harm*|cut*|burn*|hit*) (myself|my self) ..4 (again|on purpose|intentionally|deep*|to feel|to cope)",
		"(been|started|keep|keeps|kept|stop|back to) cutting",
		"(self|selfharm) (harm*|injur*)",
		"selfharm*",
		"suicid*",
		"(end|ending|take|taking|took) (my|own|my own) (life|lives)",
		"end ..1 it all",
		"better off ..4 (dead|gone|without me)",
		"(want|wants|wanted|wanna|wish|ready|rather|hope) ..2 (die|dead|be dead)",
		"(dont|do not|dnt|no longer|doesnt|does not) (want|wanna|wish) to? (live|be alive|be here|exist|wake up|go on|keep going|keep living)",
		"(no|dont see the|dont see any|dont see a|whats the|not any|any) (point|reason) ..3 (living|live|life|go on|going on|keep going|being alive|anymore)",
		"(wish|want|hope) ..6 (not|never) wake up",
		"(sleep|asleep) and (not|never) wake up",
		"=kms",
		"unalive",
		"(thinking|think|thought|going|want|wanna|plan|planning|might|gonna) ..4 (take|taking|swallow*) all ..3 (@meds)",
		"plan* ..3 (overdose|overdosing|end it|kill)",
		"(@cant) go on (like this|anymore|living|any longer)",
		"jump off ..2 (bridge|building|roof)",
		"(not|isnt|aint) worth living",
		"(no|dont see a|dont see any|cant see a|cant see any|see no|there is no|theres no) way out",
		"(jump*|throw*|step*|walk*) ..3 (in front of|off) ..2 (train|trains|bus|car|truck|traffic|bridge|building|roof|cliff)",
		"(end|ending) (things|everything)",
		"(better|happier|easier) ..3 without me",
		"(nothing|no one|nobody|noone) ..2 to live for",
		"(goodbye|suicide) (note|notes|letter|letters)",
		"(kill|kil|killing|end|ending|harm|harming|shoot|shooting|hang|hanging) (himself|herself|themselves|themself)",
		"(harm|harming|harmed) (myself|my self)",
		"(been|keep|keeps|kept|started|stop|back to|still) (hurting|harming|cutting|burning|hitting) (myself|my self)",
		"(life|it all|everything) ..3 (be over|is over|to end)",
		"want it all? (to be over|to end|over)",
		"hate (my life|living|being alive|myself)",
		"(stockpil*|hoard*|saving up|saved up|stashing|stash|collecting) ..4 (@meds)",
		"(want|going|gonna|thinking|think|plan|planning|ready|about) ..3 (end|ending) it !(with)",
		"wish ..3 never (been born|born|existed)",
		"burden (to|on) (everyone|my family|my kids|you all|them|everybody|the people)",
		"(slit|slitting|slice|cut|cutting) ..2 (my|his|her)? wrists",
		"gun ..3 (my|his|her) head",
	}},
	{FlagHarmOthers, []string{
		"(want|wants|wanna|going|gonna|plan|planning|thinking|thoughts|urge|urges) ..3 (kill|hurt|shoot|stab|harm) ..2 (someone|somebody|people|others|everyone)",
	}},
	{FlagBleeding, []string{
		"(wont|doesnt|isnt|not|hasnt|cant|didnt|wouldnt|never|keep|keeps|cannot|couldnt) ..3 stop* ..2 bleed*",
		"bleed* ..6 (wont|doesnt|isnt|not|hasnt|cant|didnt|wouldnt|cannot|couldnt|never) ..3 stop*",
		"(vomit*|vommiting|vommitting|throw* up|threw up|puk*|cough* up|coughing|coughed|spit* up|spitting|throwing) ..3 (blood|bloody)",
		"blood ..3 (vomit*|puke|throw up|spit*)",
		"blood ..2 everywhere",
		"(lot|lots|so much|ton|tons|pool|puddle|gush*|spurt*|squirt*|pour*) ..3 of? blood",
		"blood ..2 (gush*|spurt*|squirt*|pour*)",
		"blood ..6 (filled|filling|fills|fill) ..2 (toilet|bowl|sink|cup|bucket)",
		"(toilet|bowl|sink) (full|filled) ..2 blood",
		"(towel|towels|pad|pads|bandage|bandages|gauze|shirt|dressing|sheets) ..2 (soaked|soaking|drenched|full)",
		"(cut|wound|gash|laceration|stab) ..6 (gush*|spurt*|pour*|pumping)",
		"blood ..3 (wont|doesnt|isnt|not) ..2 (stop*|clot*|slow*)",
		"(soak*|bleed* through|bled through) ..4 (pad|pads|towel|towels|bandage|bandages|gauze|tampon|tampons|shirt|clothes|dressing)",
		"coffee ground*",
		"(black|tarry|tar) ..3 (stool*|poop|bm|bms|bowel)",
		"(stool*|poop|bm) ..3 (black|tarry|tar)",
		"(hemorrhag*|haemorrhag*)",
		"(heavy|severe|uncontrolled|uncontrollable|massive|profuse) bleed*",
		"bleed* (heavily|profusely|badly|nonstop|a lot|like crazy)",
		"pregnant ..8 bleed*",
		"bleed* ..8 pregnant",
	}},
	{FlagAnaphylaxis, []string{
		"throat ..3 (clos*|swell*|swollen|tight*|shut)",
		"(tongue|lips|lip|uvula) ..3 (swell*|swollen|puff*|thick|huge|blow* up|ballooned)",
		"(swell*|swollen) ..3 (tongue|lips|lip|throat|uvula)",
		"anaphyla*",
		"face ..3 (swell*|swollen|puff*|blow* up|ballooned)",
		"(used|use|gave|give|given|had to use|needed|jab*|inject*|stabbed) ..3 (epipen|epi|epinephrine|auvi)",
		"(severe|bad|serious|major|big|terrible|scary|horrible|awful) ..2 allergic reaction",
		"allergic reaction ..6 (swell*|throat|tongue|lips|@cant breathe|hives all over)",
	}},
	{FlagUnconscious, []string{
		"(pass|passed|passing|passes|pased|past) out",
		"(fainted|fainting|faints)",
		"(feel|feels|feeling|felt|nearly|almost|to|gonna|might|could|may) ..2 faint",
		"(black|blacked|blacking|blank|blanked) out",
		"blackout*",
		"(lost|lose|losing|loss of) consciousness",
		"(unconscious|unresponsive)",
		"(isnt|not|wasnt|stopped) (responding|responsive|waking)",
		"(isnt|not|wasnt) answering me",
		"(wont|cant|couldnt|can not|cannot|not) wake (up|him|her|them)",
		"collaps*",
		"keel* over",
		"out cold",
		"knocked out",
		"(@cant) stay awake",
	}},
	{FlagSeizure, []string{
		"(seizure|seizures|seizing|seizured|seizer|seizers|siezure|siezures|seizuring) !(@seiznot)",
		"convuls*",
		"epileptic (fit|attack)",
		"(had|having|has|have|throwing|threw) (a|another)? fit !(of)",
		"eyes ..3 roll* ..2 back",
		"(shaking|jerking|twitching) ..4 (uncontroll*|all over|whole body|wont stop)",
	}},
	{FlagOverdose, []string{
		"(overdos*|over dos*|over dose|overdoes|overdosing)",
		"(took|taken|taking|swallowed|given|gave|give|double dosed) ..2 too (many|much)",
		"(took|swallowed|taken|ate|popped|downed|chugged) ..3 (all|whole|entire|bottle|handful|bunch|#many) ..4 (@meds)",
		"(swallowed|ate|drank|drinking|ingested|chewed|licked|got into|eaten|swallow) ..4 (bleach|detergent|tide|pod|pods|antifreeze|cleaner|cleaning|chemical*|poison*|battery|batteries|lye|drano|gasoline|kerosene|lighter|pesticide*|mushroom*|weed killer|rat|roach|windshield|lamp oil|nail polish remover|mouthwash|hand sanitizer)",
		"poison*",
		"(took|taken|take|injected|inject|drank|swallowed|used) ..3 #num ..2 (@dose) ..3 (instead of|rather than)",
		"(took|taken|swallowed|ate|eaten|popped|downed|had) #many (of)? ..3 (@meds)",
		"(gave|given|give|giving) (my|the|him|her|our|them|his|myself|himself|herself) ..3 #num ..2 (@dose) ..3 (instead of|rather than)",
		"empty ..4 (@meds) ..10 (drowsy|sleepy|unresponsive|wont wake|confused|passed out|not waking|groggy|out of it|unconscious)",
		"carbon monoxide",
	}},
	{FlagHeadInjury, []string{
		"(hit|hitting|bumped|banged|struck|smacked|whacked|fell on) ..3 head ..12 (vomit*|throw* up|threw up|puk*|@thinner|confus*|pass* out|knocked out|unconscious|seiz*|blacked out|worst)",
		"(@thinner) ..12 (hit|hitting|bumped|banged|struck|smacked|fell) ..3 head",
	}},
	{FlagPregnancy, []string{
		"water (just|has|had)? broke",
		"waters broke",
		"baby ..4 (not moving|stopped moving|hasnt moved|isnt moving|no movement|not kicking|stopped kicking|hasnt kicked|havent felt|not felt)",
	}},
	{FlagEmergencyQuestion, []string{
		"(should|do|shall|must) (i|we) ..3 (go|call|head|come|get|take) ..3 (er|911|emergency|hospital|ambulance|ed)",
	}},
}

type cueTable struct {
	kind     ruleKind
	patterns []string
}

var cueRules = []cueTable{
	{kNeg, []string{
		"(no|not|never|without|denies|deny|denied|denying|nor|neither|none|dont|doesnt|didnt|havent|hasnt|hadnt|isnt|arent|wasnt|werent|wont|wouldnt|nope|aint)",
		"negative for", "no longer", "free of", "ruled out", "rules out", "rule out", "absence of",
	}},
	{kPseudoNeg, []string{
		"no (i|im|ive|id|ill|we|it|its|one|way|matter|idea|doubt|change|better|relief|improvement|help|response|answer|sooner|kidding|joke|wonder|clue|rush|reason|point)",
		"not (sure|certain|only|just|even|better|improving|helping|working|stopping|positive|normal|right)",
		"not (going away|gone|resolved|getting better|any better|much better)",
		"(dont|do not|didnt|did not) (know|think|understand|care|remember|want|wanna|like|feel like)",
		"(doesnt|does not|didnt|did not|isnt|is not|wasnt|arent|hasnt|has not|havent|have not|wont|will not|not|cant|cannot) (help|helping|helped|stop|stopping|stopped|go away|going away|gone away|get better|getting better|improve|improving|improved|work|working|worked|ease|easing|eased|quit|let up|slow down|budge|matter|do anything|doing anything|seem to)",
		"(can|could) not",
		"never ..8 (before|like this|this bad|so bad|this much|this severe|anything like)",
		"(cant|not|hard|unable|hardly|cannot|couldnt|difficult) ..4 without",
		"(whether|if) or not",
		"(no|not|never|havent|hasnt|hadnt|didnt|dont|doesnt|wasnt|werent) ..8 (until|till|til)",
	}},
	{kPost, []string{
		"turned out ..4 (muscle|muscular|heartburn|reflux|anxiety|gas|nothing|fine|normal|costochondritis|strain|strained|panic|pulled|indigestion|benign)",
		"(gone|resolved|disappeared|subsided|stopped|cleared|settled)",
		"(went|gone|goes) away",
		"(went|gone|goes|going) down !(my|the|his|her|into|to|both|left|right|arm|arms|leg|legs|back|jaw|neck|through|from)",
		"(passed|passes) !(out)",
		"is over", "no longer", "cleared up",
	}},
	{kPseudoPost, []string{
		"(not|hasnt|havent|didnt|wont|doesnt|isnt|never|hardly|wasnt|nothing|barely|almost|nearly|aint|arent) ..1 (gone|stopped|resolved|subsided|disappeared|cleared|settled|went away|gone away|went down|gone down)",
	}},
	{kHypo, []string{
		"if", "what if", "in case", "incase",
		"(risk|risks|chance|chances|odds) (of|for)",
		"risk", "prevent*", "avoid*",
		"(reduce|lower|lowering|reducing|decrease) (my|the|your|his|her)? (risk|risks|chance|chances|odds)",
		"warning signs", "(signs|symptoms|sign|symptom) of",
		"learn", "information", "info", "pamphlet", "handout", "brochure", "article",
		"(read|reading) (that|about)", "i read",
		"education", "questionnaire", "survey",
		"(can|could|may|might) cause", "side effect*",
		"explain",
		"(dont|do not|doesnt|didnt|never) (want|wanna) to",
		"(give|gave|giving|gives) (me|him|her|you) a",
		"when (should|do) (i|we)", "when to (call|go|worry)",
		"(worried|scared|afraid|nervous) (about|of) (getting|having another)",
		"screening",
		"difference between",
	}},
	{kPseudoHypo, []string{
		"(sure|know|knows|wonder*|unsure|idk|dunno|tell|even|as|whether|see|check|asking|ask) if",
		"(showing|having|show|have|has|had) ..2 (signs|symptoms|sign|symptom) of",
	}},
	{kHist, []string{
		"(died|dies|funeral|deaths)", "passed away", "death of",
		"(history|hx|childhood)", "in the past", "used to",
		"(years|year|yrs|yr|decades|decade|months|weeks) ago", "last (year|month)", "a while ago", "long time ago", "(once|years) before",
		"as a (kid|child|teen|teenager|baby|toddler)",
		"when i was (young|younger|little|a kid|a child|a teen|a teenager|pregnant|in)",
		"#year",
		"(had|suffered) ..4 at (age|the age of)? #many",
		"(previous|previously|prior)",
	}},
	{kPseudoHist, []string{
		"prior to", "like death",
	}},
	{kRecent, []string{
		"(now|today|tonight|currently|again|still|started|starting|ongoing|yesterday|worse|worsening|just)",
		"this (morning|afternoon|evening|week)", "right now", "at the moment", "last night",
		"(@ago)", "days ago",
	}},
	{kRecur, []string{
		"(back|again|returned|returning|recur*|worse|worsening|worsen*|another)",
		"(comes|come|coming|came) and (goes|go|going|went)", "on and off", "off and on", "(keeps|keep) coming",
	}},
	{kBenign, []string{
		"food poison*", "poison (ivy|oak|sumac)",
		"bad breath", "breath (mint|mints|smell*|freshener)", "(fresh|smelly|stinky) breath",
		"blood (work|test|tests|draw|draws|sugar|sugars|pressure|type|bank|donation|drive|thinner|thinners|count|counts|panel|glucose|results|result|orange)",
		"heart attack lol",
		"(laughing|laughed|laugh) ..4 out of breath", "out of breath ..4 (laughing|laugh|lol|haha)",
	}},
	{kKwBP, []string{
		"(bp|bps|bloodpressure|systolic|sys)", "blood (pressure|pressures)", "b p", "(pressure|pressures) !(on|in|like)", "top number",
	}},
	{kKwBPDia, []string{
		"(diastolic|dia)", "bottom number",
	}},
	{kKwGlucose, []string{
		"(sugar|sugars|glucose|bg|bgs|=bs|cbg|fsbs|fbs|dexcom|libre|cgm|glucometer|meter|fingerstick)", "finger stick",
	}},
	{kKwTemp, []string{
		"(temp|temps|temperature|temperatures|fever|fevers|febrile|thermometer)",
	}},
	{kKwHR, []string{
		"(hr|heartrate|heartbeat|bpm)", "pulse !(ox|oximeter|oxymeter|oximetry)", "heart (rate|beat|beats)",
		"heart ..2 (racing|pounding|beating|going|running)",
	}},
	{kKwSpO2, []string{
		"(o2|oxygen|sat|sats|saturation|saturations|spo2|sp02|pulseox|oximeter|oxymeter|ox)", "pulse ox",
	}},
	{kMedContext, []string{
		"(refill*|rx|prescription*|script|pharmacy|mg|mcg|inhaler*|diskus|puff*|tablet*|tab|tabs|dose|doses|strength|generic|advair|symbicort|wixela|dulera|breo|hydrocodone|norco|percocet|vicodin|hctz|send)",
		"mail order",
	}},
	{kExertion, []string{
		"(treadmill|running|run|jogging|jog|workout|exercise|exercising|gym|cardio|spin|spinning|hiking|biking|cycling|sprint*|elliptical|training|rowing|swimming|zumba)",
		"working out",
	}},
}

// breakers start a new clause: negation and historical context do not
// reach across them.
var breakers = map[string]bool{
	"but": true, "however": true, "though": true, "although": true, "yet": true, "except": true,
	"whereas": true, "now": true, "then": true, "until": true, "suddenly": true, "til": true, "till": true,
}

// andBreakers: "and" followed by one of these starts a new clause
// ("no fever and my chest hurts").
var andBreakers = map[string]bool{
	"i": true, "im": true, "ive": true, "id": true, "ill": true, "my": true, "it": true, "its": true,
	"now": true, "then": true, "this": true, "the": true, "he": true, "hes": true, "she": true, "shes": true,
	"his": true, "her": true, "we": true, "they": true, "there": true, "theres": true, "suddenly": true,
	"today": true, "also": true, "cant": true, "cannot": true, "can": true, "am": true, "have": true,
	"has": true, "had": true, "feel": true, "felt": true, "started": true, "keep": true, "still": true,
	"now,": true, "getting": true, "got": true,
}

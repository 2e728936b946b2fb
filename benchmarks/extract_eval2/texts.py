# ruff: noqa: E501  (sentences are data, one per line)
"""The words of the generated extraction set: written for this benchmark (fictional outlets,
people and events; no sentence is taken from a real page). `build.py` composes pages from them."""

EN_SENTENCES = [
    "The ministry confirmed on Tuesday that a second group of engineers had arrived in the port city.",
    "Officials said the shipment had been inspected twice before it left the dock.",
    "Local residents described a convoy of unmarked lorries moving north shortly after midnight.",
    "The council voted eleven to four to extend the emergency budget until the end of March.",
    "Analysts at the institute expect the agreement to be tested within the first year.",
    "A spokesperson declined to say how many staff members would be affected by the decision.",
    "The report lists fourteen companies that are accused of helping to move the goods.",
    "Farmers in the valley say the late frost destroyed about a third of this year's harvest.",
    "The committee will publish its findings in a hearing scheduled for next Thursday.",
    "Satellite images taken in October show new barracks at the edge of the training ground.",
    "The governor called the plan realistic but warned that funding remained uncertain.",
    "Researchers measured water levels at forty points along the river over six months.",
    "The treaty commits both parties to consult each other if either is attacked.",
    "Prices for heating oil rose by nine per cent in the second half of the month.",
    "Teachers' unions have called for a one-day strike if talks fail again on Friday.",
    "The delegation arrived by train and was received by the deputy foreign minister.",
    "Independent monitors were not allowed to visit the site during the inspection.",
    "The new bridge is expected to cut travel times between the two towns by half.",
    "Customs officers found the components hidden among spare parts for tractors.",
    "Opposition lawmakers demanded that the defence minister appear before parliament.",
    "The hospital has postponed all non-urgent operations until the end of the week.",
    "According to the court filing, the payments were routed through three intermediary banks.",
    "The festival drew more visitors than in any year since it was founded.",
    "Engineers warned that the dam would need major repairs within the next decade.",
    "The statement did not mention the number of soldiers involved in the exercise.",
    "Several diplomats said privately that the timing of the announcement surprised them.",
    "The shipping company said its vessels would avoid the strait until further notice.",
    "The city plans to plant twelve thousand trees along its main roads by 2030.",
    "Investigators are still trying to establish who ordered the transfer.",
    "The minister said the sanctions would be reviewed every six months.",
    "Rail traffic resumed on Sunday after the damaged track had been replaced.",
    "The study found no evidence that the policy had reduced emissions in the first year.",
    "Witnesses said the vehicles carried no insignia and drove without lights.",
    "The agreement also covers cooperation in education, health and technology.",
    "Unemployment in the region fell to its lowest level in fifteen years.",
    "The museum will return the two paintings to their owners' heirs in the spring.",
    "Border guards reported an unusual number of night crossings in the past fortnight.",
    "The embassy advised its citizens to avoid large gatherings over the weekend.",
    "Negotiators worked through the night but failed to agree on a final text.",
    "The airline expects to restore its full timetable by the middle of next month.",
]

DE_SENTENCES = [
    "Das Ministerium bestätigte am Dienstag, dass eine zweite Gruppe von Technikern in der Hafenstadt eingetroffen ist.",
    "Nach Angaben der Behörden wurde die Lieferung vor dem Auslaufen zweimal kontrolliert.",
    "Anwohner berichteten von einer Kolonne unbeschrifteter Lastwagen, die kurz nach Mitternacht nach Norden fuhr.",
    "Der Stadtrat stimmte mit elf zu vier Stimmen für die Verlängerung des Nothaushalts bis Ende März.",
    "Fachleute des Instituts rechnen damit, dass das Abkommen schon im ersten Jahr auf die Probe gestellt wird.",
    "Eine Sprecherin wollte nicht sagen, wie viele Beschäftigte von der Entscheidung betroffen sind.",
    "Der Bericht nennt vierzehn Firmen, die beim Transport der Waren geholfen haben sollen.",
    "Die Landwirte im Tal schätzen, dass der späte Frost etwa ein Drittel der Ernte vernichtet hat.",
    "Der Ausschuss will seine Ergebnisse in einer Anhörung am kommenden Donnerstag vorstellen.",
    "Satellitenbilder vom Oktober zeigen neue Unterkünfte am Rand des Übungsplatzes.",
    "Die Gouverneurin nannte den Plan realistisch, warnte aber vor einer unsicheren Finanzierung.",
    "Die Forschenden haben ein halbes Jahr lang an vierzig Stellen den Pegel des Flusses gemessen.",
    "Der Vertrag verpflichtet beide Seiten zu Konsultationen, falls eine von ihnen angegriffen wird.",
    "Heizöl wurde in der zweiten Monatshälfte um neun Prozent teurer.",
    "Die Lehrergewerkschaften drohen mit einem eintägigen Streik, falls die Gespräche am Freitag erneut scheitern.",
    "Die Delegation reiste mit dem Zug an und wurde vom stellvertretenden Außenminister empfangen.",
    "Unabhängige Beobachter durften die Anlage während der Inspektion nicht betreten.",
    "Mit der neuen Brücke soll sich die Fahrzeit zwischen den beiden Orten halbieren.",
    "Zollbeamte fanden die Bauteile versteckt zwischen Ersatzteilen für Traktoren.",
    "Abgeordnete der Opposition verlangten, dass der Verteidigungsminister im Parlament Rede und Antwort steht.",
    "Das Krankenhaus hat alle planbaren Operationen bis zum Ende der Woche verschoben.",
    "Laut der Klageschrift liefen die Zahlungen über drei zwischengeschaltete Banken.",
    "Das Festival zog so viele Besucher an wie in keinem Jahr seit seiner Gründung.",
    "Ingenieure warnen, dass der Damm in den nächsten zehn Jahren grundlegend saniert werden muss.",
    "Die Mitteilung nannte keine Zahl der Soldaten, die an der Übung beteiligt waren.",
    "Mehrere Diplomaten sagten hinter vorgehaltener Hand, der Zeitpunkt der Ankündigung habe sie überrascht.",
    "Die Reederei teilte mit, ihre Schiffe würden die Meerenge bis auf Weiteres meiden.",
    "Bis 2030 will die Stadt zwölftausend Bäume entlang ihrer Hauptstraßen pflanzen.",
    "Die Ermittler versuchen noch immer herauszufinden, wer die Überweisung angeordnet hat.",
    "Die Ministerin sagte, die Sanktionen würden alle sechs Monate überprüft.",
    "Der Bahnverkehr lief am Sonntag wieder an, nachdem das beschädigte Gleis ersetzt worden war.",
    "Die Studie fand keinen Beleg dafür, dass die Maßnahme die Emissionen im ersten Jahr gesenkt hat.",
    "Zeugen zufolge trugen die Fahrzeuge keine Kennzeichen und fuhren ohne Licht.",
    "Das Abkommen umfasst auch die Zusammenarbeit in Bildung, Gesundheit und Technik.",
    "Die Arbeitslosigkeit in der Region sank auf den niedrigsten Stand seit fünfzehn Jahren.",
    "Das Museum gibt die beiden Gemälde im Frühjahr an die Erben der früheren Besitzer zurück.",
    "Die Grenzpolizei meldete in den vergangenen zwei Wochen auffällig viele nächtliche Grenzübertritte.",
    "Die Botschaft riet ihren Staatsangehörigen, am Wochenende größere Menschenansammlungen zu meiden.",
    "Die Unterhändler verhandelten die ganze Nacht, konnten sich aber nicht auf einen Text einigen.",
    "Die Fluggesellschaft will ihren vollen Flugplan bis Mitte nächsten Monats wiederherstellen.",
]

EN_HEADINGS = [
    "What happens next",
    "A long dispute",
    "Reactions abroad",
    "The numbers",
    "Questions remain",
    "Background",
    "Why it matters",
    "A turning point",
]
DE_HEADINGS = [
    "Wie es weitergeht",
    "Ein langer Streit",
    "Reaktionen im Ausland",
    "Die Zahlen",
    "Offene Fragen",
    "Hintergrund",
    "Warum das wichtig ist",
    "Ein Wendepunkt",
]

EN_TITLES = [
    "Convoy seen moving north overnight",
    "Council extends emergency budget",
    "Frost destroys a third of harvest",
    "New barracks visible on satellite images",
    "Talks fail again after night of negotiations",
    "Customs find hidden components",
    "Hospital postpones operations",
    "Rail traffic resumes after repairs",
]
DE_TITLES = [
    "Kolonne nachts auf dem Weg nach Norden",
    "Stadtrat verlängert Nothaushalt",
    "Frost vernichtet ein Drittel der Ernte",
    "Neue Unterkünfte auf Satellitenbildern",
    "Gespräche scheitern nach langer Nacht",
    "Zoll findet versteckte Bauteile",
    "Krankenhaus verschiebt Operationen",
    "Bahnverkehr läuft wieder",
]

# Boilerplate: what a page carries around its article, and what must stay out of the main text.
EN_NAV = [
    "Home",
    "World",
    "Politics",
    "Business",
    "Science",
    "Sport",
    "Culture",
    "Opinion",
    "Podcasts",
    "Newsletters",
    "Sign in",
    "Subscribe",
]
DE_NAV = [
    "Startseite",
    "Politik",
    "Wirtschaft",
    "Wissen",
    "Sport",
    "Kultur",
    "Meinung",
    "Podcasts",
    "Newsletter",
    "Anmelden",
    "Abo",
]
EN_TEASERS = [
    "Read more: How the port became a hub for grey trade",
    "Related: Five things to know about the new treaty",
    "Also read: The farmers who lost everything in one night",
    "Most read: Storm warning for the coast this weekend",
    "Watch: Our correspondent on the ground",
    "Opinion: Why the budget fight is far from over",
]
DE_TEASERS = [
    "Lesen Sie auch: Wie der Hafen zum Umschlagplatz wurde",
    "Mehr zum Thema: Fünf Fragen zum neuen Vertrag",
    "Auch interessant: Die Bauern, die in einer Nacht alles verloren",
    "Meistgelesen: Sturmwarnung für die Küste am Wochenende",
    "Video: Unsere Korrespondentin vor Ort",
    "Kommentar: Warum der Haushaltsstreit nicht vorbei ist",
]
EN_COOKIE = (
    "We use cookies and similar technologies to personalise content and ads and to analyse "
    "our traffic. You can change your choice at any time in the privacy settings."
)
DE_COOKIE = (
    "Wir verwenden Cookies und ähnliche Technologien, um Inhalte und Anzeigen zu "
    "personalisieren und Zugriffe zu analysieren. Ihre Auswahl können Sie jederzeit in "
    "den Datenschutz-Einstellungen ändern."
)
EN_NEWSLETTER = (
    "Get the morning briefing in your inbox: the five stories you need to know, "
    "every weekday at six."
)
DE_NEWSLETTER = (
    "Der Morgen-Newsletter: die fünf wichtigsten Nachrichten des Tages, werktags "
    "um sechs Uhr in Ihrem Postfach."
)
EN_COMMENTS = [
    "Finally someone is asking the right questions.",
    "This was predictable years ago, nobody listened.",
    "Great reporting, thank you.",
]
DE_COMMENTS = [
    "Endlich stellt jemand die richtigen Fragen.",
    "Das war seit Jahren absehbar, aber niemand hat zugehört.",
    "Sehr guter Bericht, danke.",
]
EN_CAPTIONS = ["The harbour at dawn. Photo: Agency", "Delegates arrive for the talks. Photo: Pool"]
DE_CAPTIONS = [
    "Der Hafen im Morgengrauen. Foto: Agentur",
    "Die Delegierten treffen ein. Foto: Pool",
]
EN_QUESTIONS = [
    "How did it come to this?",
    "What is the government's position?",
    "Is there a risk of escalation?",
    "What should people expect this winter?",
    "Who pays for the repairs?",
    "What would you change first?",
]
DE_QUESTIONS = [
    "Wie konnte es so weit kommen?",
    "Wie steht die Regierung dazu?",
    "Droht eine Eskalation?",
    "Worauf müssen sich die Menschen im Winter einstellen?",
    "Wer bezahlt die Reparaturen?",
    "Was würden Sie als Erstes ändern?",
]
EN_TABLE_HEAD = ["Region", "Before", "After"]
DE_TABLE_HEAD = ["Region", "Vorher", "Nachher"]
REGIONS = ["North", "Coast", "Valley", "Capital", "East"]

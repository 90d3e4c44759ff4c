# language: de
@api
Funktionalität: Ein Gate öffnet sich erst, wenn seine Phase erledigt ist
  Die Lab-Koordination bringt eine Initiative erst weiter, wenn alle Pflichtpunkte der Phase
  erledigt sind, die Rollen des Gates es freigegeben haben und genug Sektoren beteiligt sind.
  Dieses Feature läuft über die HTTP-API (Tag @api).

  Grundlage:
    Angenommen der Ablauf "workflows/kosi-lab.yaml"
    Und diese Personen:
      | Name            | Rollen         |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    Und "Jana Becker" hat die Initiative "Fahrradgaragen im Quartier" angelegt

  Szenariogrundriss: Ein Gate bleibt zu, solange ein Pflichtpunkt seiner Phase offen ist
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Wenn "Jana Becker" "<Schritt>" auslöst
    Dann wird es abgelehnt wegen "item_open" für "<Punkt>"
    Und die Initiative ist in der Phase "<Phase>"

    Beispiele:
      | Phase         | Schritt           | Punkt                     |
      | initiation    | start_co_creation | Fragestellung vereinbart  |
      | co_creation   | start_prototyping | round_table_held          |
      | prototyping   | consolidate       | permits_cleared           |
      | consolidation | complete          | Dauerhafter Träger benannt |

  Szenariogrundriss: Ein Gate öffnet sich, sobald Checkliste, Freigaben und Sektoren vollständig sind
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Und alles, was "<Schritt>" braucht, ist erledigt
    Dann ist der Schritt "<Schritt>" möglich
    Wenn "Jana Becker" "<Schritt>" auslöst
    Dann ist die Initiative in der Phase "<nächste Phase>"
    Und kein Punkt der Phase ist erledigt

    Beispiele:
      | Phase          | Schritt           | nächste Phase  |
      | Initiierung    | Ko-Kreation starten | Ko-Kreation    |
      | Ko-Kreation    | Prototyping starten | Prototyping/Erprobung |
      | Prototyping/Erprobung | Verstetigung beginnen | Verstetigung |
      | Verstetigung   | Abschließen       | Abgeschlossen  |

  Szenariogrundriss: Ein Gate braucht die Freigabe jeder Rolle, die es nennt
    Angenommen die Initiative hat die Phase "<Phase>" erreicht
    Dann ist der Schritt "<Schritt>" gesperrt durch "approval_missing" für "<Rolle>"
    Wenn "<Person>" "<Schritt>" freigibt
    Dann hat der Schritt "<Schritt>" die Freigaben von "<Rolle>"

    Beispiele:
      | Phase         | Schritt           | Rolle              | Person        |
      | initiation    | start_co_creation | Verwaltung         | Thomas Krüger |
      | co_creation   | start_prototyping | administration     | Thomas Krüger |
      | co_creation   | start_prototyping | Zivilgesellschaft  | Aylin Demir   |
      | prototyping   | consolidate       | administration     | Thomas Krüger |
      | consolidation | complete          | administration     | Thomas Krüger |
      | consolidation | complete          | civil_society      | Aylin Demir   |

  Szenario: Prototyping braucht beide Freigaben; die der Verwaltung allein reicht nicht
    Angenommen die Initiative hat die Phase "co_creation" erreicht
    Und alle Pflichtpunkte der Phase sind abgehakt
    Und "Thomas Krüger" hat "start_prototyping" freigegeben
    Wenn "Jana Becker" "start_prototyping" auslöst
    Dann wird es abgelehnt mit genau diesen Gründen:
      | Code             | Betrifft          |
      | approval_missing | Zivilgesellschaft |
    Und es wird abgelehnt mit der Meldung "Freigabe durch Zivilgesellschaft fehlt."

  Szenario: Nur die Rollen, die ein Gate nennt, dürfen es freigeben
    Angenommen die Initiative hat die Phase "co_creation" erreicht
    Wenn "Lena Vogt" "start_prototyping" freigibt
    Dann wird es abgelehnt wegen "role_missing"
    Wenn "Thomas Krüger" "start_prototyping" freigibt
    Und "Thomas Krüger" "start_prototyping" freigibt
    Dann wird es abgelehnt wegen "already_approved" für "administration"

  Szenario: Die Ko-Kreation beginnt erst mit Beteiligten aus drei Sektoren
    Angenommen alle Pflichtpunkte der Phase sind abgehakt
    Und "Thomas Krüger" hat "start_co_creation" freigegeben
    Und "Jana Becker" hat Beteiligte aus den Sektoren "administration, civil_society" aufgenommen
    Wenn "Jana Becker" "start_co_creation" auslöst
    Dann wird es abgelehnt mit genau diesen Gründen:
      | Code            | Betrifft |
      | sectors_missing | 3        |
    Wenn "Jana Becker" "Lena Vogt" für den Sektor "Wissenschaft" beteiligt
    Dann bringen Beteiligte 3 Sektoren ein
    Wenn "Jana Becker" "start_co_creation" auslöst
    Dann ist die Initiative in der Phase "co_creation"

  Szenario: Nur die Lab-Koordination löst einen Schritt aus
    Angenommen alles, was "start_co_creation" braucht, ist erledigt
    Wenn "Thomas Krüger" "start_co_creation" auslöst
    Dann wird es abgelehnt wegen "role_missing"
    Und die Initiative ist in der Phase "initiation"

  Szenario: Ein Schritt, der nicht aus der aktuellen Phase führt, wird abgelehnt
    Wenn "Jana Becker" "consolidate" auslöst
    Dann wird es abgelehnt wegen "trigger_not_available" für "consolidate"
    Wenn "Jana Becker" "start_cocreation" auslöst
    Dann wird es abgelehnt mit der Meldung "(meinten Sie 'start_co_creation'?)"

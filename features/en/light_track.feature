Feature: A light-track request finishes by itself
  Small requests (putting up a bench) take the light track: once every required item of the
  implementation is done, the request moves to "done" without anybody firing a step.

  Background:
    Given the workflow "workflows/light-track.yaml"
    And these people:
      | name          | roles          |
      | Jana Becker   | coordinator    |
      | Thomas Krüger | administration |
      | Aylin Demir   | civil_society  |
    And "Jana Becker" has started the initiative "Sitzbank aufstellen"

  Scenario: The last required item moves the request to done by itself
    Given the initiative has reached the phase "implement"
    When "Aylin Demir" ticks "measure_done"
    Then the initiative is in the phase "implement"
    When "Jana Becker" ticks "feedback_given"
    Then the initiative is in the phase "done"
    And the system fired "finish" by itself
    And the history contains, in this order:
      | event        | by          | item           | trigger |
      | ItemTicked   | Jana Becker | feedback_given |         |
      | PhaseChanged | system      |                | finish  |

  Scenario: A waiver can be the last step too
    Given the initiative has reached the phase "implement"
    And "Thomas Krüger" has ticked "measure_done"
    When "Thomas Krüger" waives "feedback_given" because "The requesters cannot be reached"
    Then the initiative is in the phase "done"
    And the system fired "finish" by itself

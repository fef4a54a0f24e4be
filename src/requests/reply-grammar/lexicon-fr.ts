import type { LexiconData } from './lexicon-types.js';

/**
 * French. Accents are folded when the lexicon loads, so "approuvé" and "approuve" are one entry
 * for matching; the written forms are kept so the reply language can still be told apart.
 * Imperatives ("approuvez") are included because "n'approuvez pas bob" must be recognised as a
 * negated command, not as text without a command.
 */
export const LEXICON_FR: LexiconData = {
  lang: 'fr',
  words: {
    approve: [
      'approuver', 'approuve', 'approuvé', 'approuvée', 'approuvés', 'approuvées', 'approuvez',
      'approuvons', "j'approuve", 'accepter', 'accepte', 'accepté', 'acceptée', 'acceptés',
      'acceptées', 'acceptez',
    ],
    deny: [
      'refuser', 'refuse', 'refusé', 'refusée', 'refusés', 'refusées', 'refusez', 'rejeter',
      'rejette', 'rejeté', 'rejetée', 'rejetés', 'rejetées', 'rejetez',
    ],
    all: ['tous', 'toutes', 'tout', 'tout le monde', 'autres'],
    except: ['sauf', 'excepté', 'à part', 'hormis', 'mais pas', "à l'exception de"],
    because: ['car', 'parce que', "parce qu'", 'raison', 'motif', 'puisque'],
    neg: ['ne', "n'", 'pas', 'ne pas', 'jamais', 'non', 'aucun', 'aucune', 'personne', 'rien'],
    and: ['et', 'puis', 'ainsi que', 'mais'],
    polite: [
      "s'il vous plaît", "s'il vous plait", "s'il te plaît", "s'il te plait", 'svp', 'stp',
      'merci', 'merci beaucoup', 'oui', "d'accord",
    ],
    filler: [
      'la', 'le', 'les', "l'", 'demande', 'demandes', 'licence', 'licences', 'pour', 'de', 'du',
      "d'", 'des', 'ce', 'cette', 'ceci', 'cela', 'ça', 'est', "c'",
    ],
    subject: ['je', "j'", 'nous', 'on'],
    aux: ['ai', 'avons', 'aussi', 'également'],
    greeting: ['bonjour', 'bonsoir', 'salut', 'coucou', 'cher', 'chère', 'chers', 'chères', 'madame', 'monsieur'],
    cond: ['si', "s'", 'quand', 'lorsque', 'peut-être', 'sinon', 'ou'],
  },
};

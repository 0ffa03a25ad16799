/**
 * Types for the parts of ml-cart (which ships none) that the priority classifier uses.
 * A node is a leaf when it lacks left or right; rows with row[splitColumn] < splitValue go left.
 */
declare module 'ml-cart' {
  export interface CartOptions {
    gainFunction?: 'gini';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }

  /** ml-matrix's row vector of class proportions at a leaf, indexed by label. */
  export interface CartDistribution {
    maxRowIndex(row: number): [number, number];
    getRow(row: number): number[];
  }

  export interface CartNode {
    splitColumn?: number;
    splitValue?: number;
    left?: CartNode;
    right?: CartNode;
    distribution?: CartDistribution;
  }

  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    root: CartNode;
    train(trainingSet: number[][], labels: number[]): void;
    predict(rows: number[][]): number[];
  }
}

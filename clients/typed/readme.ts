// Uses the README's operations through their generated types, so `tsc --strict` checks the shapes a
// client sees: which fields may be null (nested connections, back-references) and which may not.
import type {
  CategoriesEventsPropertiesQuery,
  ObjectsByIdQuery,
  PropertyType,
} from "../generated/readme";

export function propertyTypes(data: CategoriesEventsPropertiesQuery): PropertyType[] {
  const types: PropertyType[] = [];
  for (const category of data.eventCategories.nodes) {
    // a nested connection is null only when its branch failed (with an error at its path)
    for (const event of category.events?.nodes ?? []) {
      for (const property of event.properties?.nodes ?? []) {
        if (property.type !== null && property.type !== undefined) {
          types.push(property.type);
        }
      }
    }
  }
  return types;
}

export function titles(data: ObjectsByIdQuery): string[] {
  const found: string[] = [];
  if (data.node?.__typename === "Event") {
    found.push(data.node.title, data.node.category?.title ?? "(no category)");
  }
  for (const node of data.nodes) {
    if (node !== null) {
      found.push(`${node.__typename} ${node.id}: ${node.title}`);
    }
  }
  return found;
}

package sc.fiji.sd.pipeline;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

/**
 * One output image.
 *
 * @param pixels X × Y × 3 (R, G, B), values in [0, 1]
 * @param seed the seed that produced it
 * @param parameters AUTOMATIC1111-style "parameters" text describing how it was made (provenance)
 */
public record GeneratedImage(Img<FloatType> pixels, long seed, String parameters) {}
